"""Configuration: per-mode defaults, YAML deep merge, overrides, unknown keys named."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialscore.config import deep_merge, load_settings, parse_override
from socialscore.errors import ConfigError


def test_mode_defaults() -> None:
    dev, prod = load_settings("dev"), load_settings("prod")
    assert (dev.transform.sample_size, dev.train.cv_folds, dev.model.n_estimators) == (5000, 3, 100)
    assert (prod.transform.sample_size, prod.train.cv_folds, prod.model.n_estimators) == (None, 5, 200)


def test_yaml_sections_deep_merge(project_dir: Path) -> None:
    (project_dir / "socialscore.yaml").write_text(
        "model:\n  C: 2.0\nmodes:\n  prod:\n    train:\n      cv_folds: 7\n"
    )
    prod = load_settings("prod", project_dir)
    assert prod.train.cv_folds == 7
    assert prod.model.C == 2.0
    assert prod.model.n_estimators == 200  # a sibling key of the merged section survives
    assert load_settings("dev", project_dir).train.cv_folds == 3


def test_cli_override_wins(project_dir: Path) -> None:
    (project_dir / "socialscore.yaml").write_text("train:\n  cv_folds: 7\n")
    settings = load_settings("dev", project_dir, [parse_override("train.cv_folds=4")])
    assert settings.train.cv_folds == 4


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [("train:\n  cv_fold: 3\n", "train.cv_fold"), ("modle:\n  C: 1\n", "modle"), ("modes:\n  stage: {}\n", "modes.stage")],
)
def test_unknown_key_is_named(project_dir: Path, yaml_text: str, key: str) -> None:
    (project_dir / "socialscore.yaml").write_text(yaml_text)
    with pytest.raises(ConfigError, match=f"unknown key '{key}'"):
        load_settings("dev", project_dir)


def test_bad_values_and_modes() -> None:
    with pytest.raises(ConfigError, match="train.cv_folds"):
        load_settings("dev", None, [parse_override("train.cv_folds=1")])
    with pytest.raises(ConfigError, match="unknown mode 'stage'"):
        load_settings("stage")
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_override("train.cv_folds")


def test_deep_merge_does_not_mutate() -> None:
    base = {"a": {"b": 1, "c": 2}}
    merged = deep_merge(base, {"a": {"b": 5}})
    assert merged == {"a": {"b": 5, "c": 2}} and base == {"a": {"b": 1, "c": 2}}


def test_slice_digest_changes_with_value() -> None:
    a = load_settings("dev").slice_digest(("train",))
    b = load_settings("dev", None, [parse_override("train.cv_folds=4")]).slice_digest(("train",))
    assert a != b and set(a) == {"train"}
