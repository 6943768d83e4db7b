"""Serving a transformer or cascade model: ONNX Runtime + the fast tokenizer, no torch; the same
pipeline contract as the linear model (sha256-checked plain files, thresholds, explanations refused
plainly, the base weights' licence beside the model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny_text_model import NASTY, corpus, expected_logits, require_serving_extra, tiny_transformer

from socialscore.errors import ModelError
from socialscore.modeling.training.estimators import SocialScoreModel
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.modeling.scorer.pipeline import FILES, ScoringPipeline, TextRules


@pytest.fixture(autouse=True)
def _extra() -> None:
    require_serving_extra()


def _featurizer(texts: list[str]) -> FeatureBuilder:
    featurizer = FeatureBuilder(word_ngram_range=(1, 1), char_ngram_range=None, min_df=1)
    featurizer.fit_transform(texts)
    return featurizer


def _pipeline(model, texts: list[str]) -> ScoringPipeline:
    return ScoringPipeline(TextRules(), _featurizer(texts), model, {"toxic": 0.5, "insult": 0.5}, 0.7,
                           {"model_version": "t-1"})


def test_raw_scores_follow_the_graph_in_input_order() -> None:
    model = tiny_transformer(batch_size=2)  # texts of different lengths cross batches when sorted
    texts = ["thanks", "you idiot", "great point thanks for the edit moron", "", "loser loser clown"]
    raw = model.raw_texts(texts)
    assert np.allclose(raw, [expected_logits(t) for t in texts], atol=1e-5)


def test_texts_are_tokenized_in_chunks_with_the_same_scores(monkeypatch) -> None:
    from socialscore.modeling.transformer import runtime

    model = tiny_transformer(batch_size=2)
    texts = ["thanks", "you idiot", "great point thanks for the edit moron", "", "loser loser clown"]
    monkeypatch.setattr(runtime, "TOKENIZE_CHUNK", 2)  # chunks of 2, 2 and 1 texts
    assert np.allclose(model.raw_texts(texts), [expected_logits(t) for t in texts], atol=1e-5)


def test_pipeline_scores_texts_without_featurizing_them(monkeypatch) -> None:
    texts, _ = corpus(30)
    pipeline = _pipeline(tiny_transformer(), texts)
    monkeypatch.setattr(pipeline.featurizer, "transform", lambda *_: pytest.fail("featurized for a transformer"))
    scores = pipeline.score(["you pathetic idiot", "thanks for the edit"])
    assert scores.is_toxic.tolist() == [True, False]
    assert scores.probabilities.shape == (2, 2)


def test_saved_model_loads_checked_and_keeps_the_licence(tmp_path: Path) -> None:
    texts, _ = corpus(30)
    model = tiny_transformer()
    model.calibration = {"toxic": (2.0, 0.5)}
    pipeline = _pipeline(model, texts)
    files = pipeline.save(tmp_path / "v")
    licence = tmp_path / "v" / "LICENSE-all-MiniLM-L6-v2.txt"
    assert "Apache License" in licence.read_text() and set(files) == {*FILES, licence.name}
    loaded = ScoringPipeline.load(tmp_path / "v", files)
    assert loaded.model.model_type == "transformer" and loaded.model.calibration == {"toxic": (2.0, 0.5), }
    assert np.allclose(loaded.predict_proba(texts), pipeline.predict_proba(texts))
    arrays = tmp_path / "v" / "arrays.npz"
    arrays.write_bytes(arrays.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="sha256"):
        ScoringPipeline.load(tmp_path / "v", files)


def test_a_loaded_transformer_builds_its_featurizer_only_when_used(tmp_path: Path, monkeypatch) -> None:
    from socialscore.modeling.scorer import serialize

    texts, _ = corpus(30)
    pipeline = _pipeline(tiny_transformer(), texts)
    files = pipeline.save(tmp_path / "v")
    build = serialize.featurizer_from_state
    monkeypatch.setattr(serialize, "featurizer_from_state", lambda *_: pytest.fail("featurizer built at load"))
    loaded = ScoringPipeline.load(tmp_path / "v", files)
    assert loaded.score(["you pathetic idiot", "thanks for the edit"]).is_toxic.tolist() == [True, False]
    assert loaded.nltk_resources == [] and set(loaded.save(tmp_path / "again")) == set(files)
    monkeypatch.setattr(serialize, "featurizer_from_state", build)
    assert (loaded.featurizer.transform(texts) != pipeline.featurizer.transform(texts)).nnz == 0


def test_explanations_are_refused_in_plain_words() -> None:
    from socialscore.modeling.behaviour.explain import explain_pipeline

    texts, _ = corpus(30)
    with pytest.raises(ValueError, match="model type transformer has no explanations"):
        explain_pipeline(_pipeline(tiny_transformer(), texts), "you idiot")


def _cascade(texts: list[str], y: np.ndarray, share: float):
    from socialscore.modeling.transformer.model import CascadeModel, choose_band

    featurizer = _featurizer(texts)
    linear = SocialScoreModel("logistic_regression", ["toxic", "insult"], "toxic",
                              {"solver": "liblinear", "C": 0.05, "n_jobs": 1, "random_state": 0})
    linear.fit(featurizer.transform(texts), y)
    proba = linear.predict_proba(featurizer.transform(texts))
    band = choose_band(proba[:, 0], 0.5, share)
    return featurizer, CascadeModel(linear, tiny_transformer(), 0.5, band, share), proba


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_cascade_sends_only_its_uncertain_band_to_the_transformer(share: float) -> None:
    texts, y = corpus(60)
    featurizer, cascade, linear = _cascade(texts, y, share)
    routed = cascade.routed(linear)
    assert abs(routed.mean() - share) <= 0.05
    distance = np.abs(np.log(linear[:, 0] / (1 - linear[:, 0])))
    if 0 < share < 1:  # the routed texts are the ones nearest the linear threshold
        assert distance[routed].max() <= distance[~routed].min()
    proba = cascade.predict_proba_texts(texts, featurizer.transform(texts))
    assert np.allclose(proba[~routed], linear[~routed])
    transformer = cascade.transformer.predict_proba_texts([t for t, r in zip(texts, routed) if r])
    assert np.allclose(proba[routed], transformer)


def test_cascade_round_trips_and_scores_like_before(tmp_path: Path) -> None:
    texts, y = corpus(60)
    featurizer, cascade, _ = _cascade(texts, y, 0.3)
    pipeline = ScoringPipeline(TextRules(), featurizer, cascade, {"toxic": 0.5, "insult": 0.5})
    files = pipeline.save(tmp_path / "c")
    loaded = ScoringPipeline.load(tmp_path / "c", files)
    assert loaded.model.model_type == "cascade" and loaded.model.band == pytest.approx(cascade.band)
    probe = [*texts, f"{NASTY[0]} thanks", "nice work"]
    assert np.allclose(loaded.predict_proba(probe), pipeline.predict_proba(probe))


def test_the_api_says_a_transformer_has_no_explanations(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from socialscore.api.service import create_app
    from socialscore.api.settings import ApiSettings
    from socialscore.registry.serving import export_pipeline

    texts, _ = corpus(30)
    export_pipeline(_pipeline(tiny_transformer(), texts), tmp_path / "models", {"model_version": "t-1"}, compat=False)
    app = create_app(ApiSettings(_env_file=None, models_dir=tmp_path / "models"))  # type: ignore[call-arg]
    with TestClient(app, raise_server_exceptions=False) as client:
        scored = client.post("/v1/score", json={"text": "you idiot"})
        refused = client.post("/v1/score", json={"text": "you idiot", "explain": True})
    assert scored.status_code == 200, scored.text
    assert scored.json()["is_toxic"] is True
    assert refused.status_code == 409 and "has no explanations" in refused.text
