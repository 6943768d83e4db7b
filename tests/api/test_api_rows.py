"""The API and batch predict turn scores into output by one rule (``modeling.scorer.scores.output_values``):
for the same texts they give the same values, digit for digit, with and without a language profile."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from tiny_bundle import build_tiny_pipeline

from conftest import settings_for
from socialscore.api.service import create_app
from socialscore.modeling.behaviour.language import LanguageProfile
from socialscore.modeling.scorer.scores import PROBABILITY_DECIMALS
from socialscore.registry.serving import export_pipeline, load_served
from socialscore.steps.predict import score_chunk

TEXTS = ["thanks for the edit, great point", "you are an idiot", "shut up you moron and go away",
         "Ты идиот, и все это знают", "could you add a source", "I will hurt you"]


@pytest.fixture(params=["no_language_profile", "language_profile"])
def bundle(request, tmp_path: Path) -> Path:
    pipeline = build_tiny_pipeline()
    if request.param == "language_profile":
        pipeline.languages = LanguageProfile.from_texts(["thanks for the edit, the article reads well",
                                                         "you are an idiot and a moron"] * 40).to_state()
    models = tmp_path / "models"
    export_pipeline(pipeline, models, {"model_version": "tiny-1", "alias": "production"})
    return models


def _batch_row(row: pd.Series, labels: list[str]) -> dict:
    """A predict output row in the API's shape."""
    known = not pd.isna(row["reliable"])
    return {
        **({"language": row["language"], "reliable": bool(row["reliable"])} if known else {}),
        "toxicity": row["toxicity"], "is_toxic": bool(row["is_toxic"]), "social_score": int(row["social_score"]),
        "risk_level": row["risk_level"], "labels": {label: row[f"p_{label}"] for label in labels},
    }


def test_api_and_batch_predict_give_identical_rows(make_client, bundle: Path):
    client = make_client(models_dir=bundle)
    batch = client.post("/v1/score/batch", json={"texts": TEXTS}).json()["results"]
    singles = [client.post("/v1/score", json={"text": t}).json() for t in TEXTS]
    pipeline = load_served(bundle)
    frame = score_chunk(pipeline, pd.DataFrame({"id": [str(i) for i in range(len(TEXTS))], "text": TEXTS}))
    expected = [_batch_row(row, pipeline.labels) for _, row in frame.iterrows()]
    for answers in (batch, singles):
        # the batch endpoint writes unknown fields as null, the single one leaves them out
        shown = [{k: v for k, v in a.items() if k not in ("flags", "model_version") and v is not None}
                 for a in answers]
        assert shown == expected
    assert {a["model_version"] for a in batch} == set(frame["model_version"]) == {"tiny-1"}


def test_probabilities_are_rounded_alike(make_client, bundle: Path):
    client = make_client(models_dir=bundle)
    answer = client.post("/v1/score", json={"text": TEXTS[1]}).json()
    for value in (answer["toxicity"], *answer["labels"].values()):
        assert value == round(value, PROBABILITY_DECIMALS) and not math.isnan(value)


def test_a_model_without_a_language_profile_claims_nothing(tmp_path: Path):
    models = tmp_path / "models"
    export_pipeline(build_tiny_pipeline(), models, {"model_version": "tiny-1", "alias": "production"})
    frame = score_chunk(load_served(models), pd.DataFrame({"id": ["0"], "text": ["hello there"]}))
    assert pd.isna(frame.loc[0, "reliable"]) and frame.loc[0, "language"] == ""
    app = create_app(settings_for(models_dir=models))
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        answer = client.post("/v1/score/batch", json={"texts": ["hello there"]}).json()["results"][0]
    assert answer.get("reliable") is None and answer.get("language") is None
