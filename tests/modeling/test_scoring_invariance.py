"""Scoring sees text the way training did: spellings of one insult score alike through every door.

Before the scoring pipeline, the API and ``predict`` scored raw text, so "ｉｄｉｏｔ" (full-width),
"id\u200biot" (zero-width space) and "i\u00addiot" (soft hyphen) escaped the filter.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
from tiny_bundle import build_tiny_bundle, build_tiny_pipeline  # noqa: E402

from socialscore.api.service import create_app  # noqa: E402
from socialscore.api.settings import ApiSettings  # noqa: E402
from socialscore.steps.predict import predict_file, served_loader  # noqa: E402

SPELLINGS = [
    "you stupid clown and idiot",
    "YOU STUPID CLOWN AND IDIOT",
    "  you   stupid\tclown and\n idiot  ",
    "ｙｏｕ ｓｔｕｐｉｄ ｃｌｏｗｎ ａｎｄ ｉｄｉｏｔ",
    "you stu\u200bpid cl\u200cown and id\u200biot",
    "you stu\u00adpid clo\u00adwn and i\u00addiot",
    "you st\u2060upid clown and idi\ufeffot",
]
PII_VARIANTS = [
    "email me at jane.doe@example.com you idiot",
    "email me at bob.smith@mail.example.org you idiot",
    "call 555-123-4567 you moron",
    "call 555-987-6543 you moron",
]
TOLERANCE = 0.05


@pytest.fixture(scope="module")
def pipeline():
    return build_tiny_pipeline()


def test_the_scoring_call_is_invariant_to_spelling(pipeline) -> None:
    scores = pipeline.score(SPELLINGS).toxicity
    assert scores.max() - scores.min() <= TOLERANCE, dict(zip(SPELLINGS, scores.round(3), strict=True))
    assert scores.min() >= pipeline.threshold  # and every spelling is still caught


def test_pii_values_do_not_change_the_score(pipeline) -> None:
    scores = pipeline.score(PII_VARIANTS).toxicity
    assert abs(scores[0] - scores[1]) < 1e-9 and abs(scores[2] - scores[3]) < 1e-9


def test_the_api_and_predict_agree_on_every_spelling(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    models = build_tiny_bundle(tmp_path / "models")
    with TestClient(create_app(ApiSettings(_env_file=None, models_dir=models))) as client:  # type: ignore[call-arg]
        api = [client.post("/v1/score", json={"text": t}).json()["toxicity"] for t in SPELLINGS]
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": SPELLINGS}).to_csv(source, index=False)
    predict_file(source, tmp_path / "out.csv", served_loader(models))
    batch = pd.read_csv(tmp_path / "out.csv")["toxicity"].tolist()
    assert max(api) - min(api) <= TOLERANCE
    assert batch == pytest.approx(api, abs=1e-6)
