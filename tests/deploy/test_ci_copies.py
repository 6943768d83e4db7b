"""scripts/ci keeps stdlib-only copies of two package tables; these tests fail when a copy drifts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

from socialscore.pipeline.cache import NOT_PIPELINE_SOURCE
from socialscore.pipeline.codehash import package_root
from socialscore.text.nltk_resources import RESOURCE_PATHS
from socialscore.text.preprocess import TextPreprocessor

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "scripts" / "ci"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"ci_{name}", CI / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stage_bundle_leaves_out_exactly_the_packages_joblib_export() -> None:
    from socialscore.registry.serving import COMPAT_MODEL, COMPAT_VECTORIZER

    assert set(_script("stage_bundle").EXPORT_ONLY) == {COMPAT_MODEL, COMPAT_VECTORIZER}


def test_stage_nltk_knows_the_same_resource_paths_as_the_package() -> None:
    assert _script("stage_nltk").KNOWN == RESOURCE_PATHS


def test_the_model_cache_key_leaves_out_what_the_step_cache_leaves_out() -> None:
    assert _script("cache_keys").NOT_PIPELINE_SOURCE == NOT_PIPELINE_SOURCE
    # each name is a real subpackage: a rename must update both copies, not silently exclude nothing
    assert all((package_root() / name / "__init__.py").is_file() for name in NOT_PIPELINE_SOURCE)


def test_the_ci_nltk_list_covers_what_the_preprocessor_can_need() -> None:
    listed = set(yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())["substitutions"]["_NLTK_RESOURCES"].split())
    everything = TextPreprocessor({"remove_stopwords": True, "lemmatize": True}).required_resources()
    assert set(everything) <= listed
    assert listed <= set(RESOURCE_PATHS)
