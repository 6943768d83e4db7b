"""What holds without the transformer extra: the settings, clear one-line errors naming the install
command, the cascade's band arithmetic and which rows may validate."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from socialscore.config import load_settings
from socialscore.errors import ConfigError
from socialscore.modeling.transformer import require_serving, require_training
from socialscore.modeling.transformer.model import choose_band
from socialscore.modeling.transformer.training import real_rows, validation_split


def test_the_model_types_and_the_budget_are_settings() -> None:
    dev = load_settings("dev", overrides=[{"model": {"type": "cascade"}}])
    prod = load_settings("prod", overrides=[{"model": {"type": "transformer"}}])
    assert dev.model.type == "cascade" and prod.model.type == "transformer"
    assert dev.train.time_budget_s < prod.train.time_budget_s  # dev mode keeps the fine-tuning short
    assert load_settings("dev").model.type == "nb_logistic"  # the linear model stays the default


def test_without_onnxruntime_the_error_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ConfigError, match=r"uv sync --extra transformer"):
        require_serving()


def test_without_torch_training_says_how_to_install_it(monkeypatch) -> None:
    for name in ("onnxruntime", "tokenizers"):  # the serving half present (or stood in for)
        monkeypatch.setitem(sys.modules, name, sys.modules.get(name) or types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ConfigError, match=r"pip install torch==2\.13\.0") as error:
        require_training()
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("share", [0.1, 0.25, 0.5])
def test_the_band_holds_the_target_share(share: float) -> None:
    p = np.random.default_rng(0).beta(0.5, 0.5, size=4000)
    band = choose_band(p, 0.3, share)
    distance = np.abs(np.log(p / (1 - p)) - np.log(0.3 / 0.7))
    assert abs(np.mean(distance <= band) - share) < 0.01


def test_no_band_routes_nothing() -> None:
    p = np.array([0.5, 0.3, 0.9])
    assert not (np.abs(np.log(p / (1 - p))) <= choose_band(p, 0.5, 0.0)).any()


def test_only_real_comments_validate() -> None:
    ids = np.array(["1", "augment-00001", "2", "3~1", "4", "5", "6", "7", "8", "9"])
    assert real_rows(ids).tolist() == [True, False, True, False, True, True, True, True, True, True]
    Y = np.array([[i % 2] for i in range(10)])
    val = validation_split(Y, 0, 0.2, 0, real_rows(ids))
    assert val.sum() == 2 and not val[[1, 3]].any()
