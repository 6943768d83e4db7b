// Scores the pasted comment with POST /v1/score and draws one bar per label. The
// server's answer is shown with textContent only.
"use strict";

const $ = (id) => document.getElementById(id);

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("result").hidden = true;
}

function showResult(data) {
  $("error").hidden = true;
  $("score").textContent = String(data.social_score);
  $("risk").textContent = data.risk_level + " risk";
  $("risk").className = data.risk_level;
  $("toxicity").textContent = data.toxicity.toFixed(3);
  $("verdict").textContent = data.is_toxic ? "toxic" : "not toxic";
  $("version").textContent = data.model_version;
  const labels = $("labels");
  labels.replaceChildren();
  for (const [name, p] of Object.entries(data.labels)) {
    const row = document.createElement("div");
    row.className = "row label";
    row.dataset.label = name;
    const title = document.createElement("span");
    title.textContent = name;
    const track = document.createElement("div");
    track.className = "track";
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.width = (100 * p).toFixed(1) + "%";
    track.appendChild(bar);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = p.toFixed(2);
    row.append(title, track, value);
    labels.appendChild(row);
  }
  $("result").hidden = false;
}

$("form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const headers = { "Content-Type": "application/json" };
  const key = $("key").value.trim();
  if (key) headers["Authorization"] = "Bearer " + key;
  $("submit").disabled = true;
  try {
    const response = await fetch("/v1/score", {
      method: "POST", headers, body: JSON.stringify({ text: $("text").value }),
    });
    const data = await response.json().catch(() => null);
    if (response.ok && data) showResult(data);
    else showError((data && data.error && data.error.message) || "HTTP " + response.status);
  } catch (err) {
    showError("The server could not be reached.");
  } finally {
    $("submit").disabled = false;
  }
});
