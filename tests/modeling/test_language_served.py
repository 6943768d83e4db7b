"""Texts in languages the model was not trained on come back marked unreliable (API, batch, metrics)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
from tiny_bundle import build_tiny_pipeline  # noqa: E402

from socialscore.modeling.behaviour.language import LanguageProfile  # noqa: E402
from socialscore.registry.serving import export_pipeline  # noqa: E402
from socialscore.steps.predict import predict_file, served_loader  # noqa: E402

ENGLISH = ["thank you for fixing the references in this article", "you are a complete idiot and a moron"]
OTHERS = ["Ты идиот, и все это знают", "お前は本当にばかだ、みんな知っている"]
TRAINING = [
    "thanks for the edit, the article reads much better now",
    "please add a source for this claim about the history of the town",
    "you are an idiot and nobody wants your opinion here",
    "I reverted your change because it removed referenced content",
] * 30


def english_pipeline():
    pipeline = build_tiny_pipeline()
    pipeline.languages = LanguageProfile.from_texts(TRAINING).to_state()
    return pipeline


def test_other_languages_are_unreliable_in_the_scoring_call() -> None:
    scores = english_pipeline().score(ENGLISH + OTHERS)
    assert scores.reliable.tolist() == [True, True, False, False]
    assert scores.language[2].endswith("Cyrl") or scores.language[2] == "ru"
    row = scores.row(3)
    assert row["reliable"] is False and row["language"]


def test_the_api_and_batch_output_carry_reliable(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from socialscore.api.service import create_app
    from socialscore.api.settings import ApiSettings

    models = tmp_path / "models"
    export_pipeline(english_pipeline(), models, {"model_version": "tiny-1", "alias": "production"})
    with TestClient(create_app(ApiSettings(_env_file=None, models_dir=models))) as client:  # type: ignore[call-arg]
        answers = [client.post("/v1/score", json={"text": t}).json() for t in ENGLISH + OTHERS]
    assert [a["reliable"] for a in answers] == [True, True, False, False]
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ENGLISH + OTHERS}).to_csv(source, index=False)
    predict_file(source, tmp_path / "out.csv", served_loader(models))
    out = pd.read_csv(tmp_path / "out.csv")
    assert out["reliable"].tolist() == [True, True, False, False]


@pytest.mark.slow
def test_the_language_model_loads_without_writing_temp_files() -> None:
    """In the image /tmp is a 64Mi emptyDir shared by the workers; py3langid's own loader unpacks its
    68 MB model there (ENOSPC in the image smoke test). Load it with no writable temp directory."""
    import os
    import subprocess
    import sys

    code = ("import os, tempfile; tempfile.tempdir = os.environ['TMPDIR']\n"
            "from socialscore.modeling.behaviour.language import detect_language\n"
            "print(detect_language('the weather is lovely today and the article reads well'))")
    # a directory no file can be created in, even by root (the tests run as root here)
    env = {**os.environ, "TMPDIR": "/proc/self"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "en"


@pytest.mark.slow
def test_a_big_batch_detects_languages_while_featurizing_with_the_same_result() -> None:
    """At PARALLEL_MIN_TEXTS texts and more, detection runs beside the featurizer's workers."""
    from socialscore.modeling.featurizers.features import PARALLEL_MIN_TEXTS

    pipeline = english_pipeline()
    texts = (ENGLISH + OTHERS) * (PARALLEL_MIN_TEXTS // 4 + 1)
    big = pipeline.score(texts)
    small = pipeline.score(ENGLISH + OTHERS)
    assert len(big) == len(texts)
    assert big.language == small.language * (len(texts) // 4)
    assert big.reliable.tolist() == small.reliable.tolist() * (len(texts) // 4)
    import numpy as np

    np.testing.assert_allclose(big.probabilities, np.tile(small.probabilities, (len(texts) // 4, 1)))
