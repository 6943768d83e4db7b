// Scores the pasted comment with POST /v1/score (explain: true), draws one bar per label and
// shows the comment with the words that drove its score highlighted. The server's answer and
// the comment are shown with textContent only.
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
  showExplanation($("text").value, data.explanation || []);
  $("result").hidden = false;
}

// The word as the server names it: edge punctuation stripped, compared without case.
const bare = (word) => word.replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, "").toLowerCase();

function showExplanation(text, terms) {
  const up = new Map(), down = new Map();
  for (const { term, contribution, kind } of terms) {
    if (kind !== "text") continue;
    for (const word of term.split(/\s+/)) {
      const key = bare(word), target = contribution > 0 ? up : down;
      if (key) target.set(key, (target.get(key) || 0) + contribution);
    }
  }
  const out = $("explained");
  out.replaceChildren();
  for (const part of text.split(/(\s+)/)) {
    const key = bare(part);
    if (key && (up.has(key) || down.has(key))) {
      const mark = document.createElement("mark");
      const pushesUp = up.has(key);
      mark.className = pushesUp ? "up" : "down";
      mark.title = (pushesUp ? "towards toxic " : "towards harmless ") + (up.get(key) || down.get(key)).toFixed(2);
      mark.textContent = part;
      out.appendChild(mark);
    } else {
      out.appendChild(document.createTextNode(part));
    }
  }
  const list = $("terms");
  list.replaceChildren();
  for (const { term, contribution } of terms) {
    const item = document.createElement("li");
    item.textContent = term + " " + (contribution > 0 ? "+" : "") + contribution.toFixed(2);
    list.appendChild(item);
  }
  $("explanation").hidden = terms.length === 0;
}

$("form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const headers = { "Content-Type": "application/json" };
  const key = $("key").value.trim();
  if (key) headers["Authorization"] = "Bearer " + key;
  $("submit").disabled = true;
  try {
    const response = await fetch("/v1/score", {
      method: "POST", headers, body: JSON.stringify({ text: $("text").value, explain: true }),
    });
    let data = await response.json().catch(() => null);
    if (response.status === 409 && data && data.error && data.error.type === "explain_unsupported") {
      // a model without exact explanations: score without them
      const again = await fetch("/v1/score", {
        method: "POST", headers, body: JSON.stringify({ text: $("text").value }),
      });
      data = await again.json().catch(() => null);
      if (again.ok && data) { showResult(data); return; }
    }
    if (response.ok && data) showResult(data);
    else showError((data && data.error && data.error.message) || "HTTP " + response.status);
  } catch (err) {
    showError("The server could not be reached.");
  } finally {
    $("submit").disabled = false;
  }
});
