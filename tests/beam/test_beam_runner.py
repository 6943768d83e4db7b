"""The Beam runner choice and staging paths: FnApiRunner by default, gs:// staging by pattern (offline)."""

from __future__ import annotations

import pytest

beam = pytest.importorskip("apache_beam")  # in the dev group, so CI has it; SOCIALSCORE_NO_SKIP fails a skip

from apache_beam.io.filesystems import FileSystems
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from socialscore.beam.runner import is_remote, make_pipeline, option, remove_dir, staging_dir


def test_default_runner_is_fn_api_runner() -> None:
    """Beam's own default (Prism) downloads a binary: it must never be picked."""
    assert isinstance(make_pipeline().runner, FnApiRunner)
    assert isinstance(make_pipeline(["--direct_num_workers=2"]).runner, FnApiRunner)


def test_a_named_runner_is_left_to_beam() -> None:
    from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner

    pipeline = make_pipeline(["--runner=BundleBasedDirectRunner"])
    assert isinstance(pipeline.runner, BundleBasedDirectRunner)


def test_options_in_both_spellings() -> None:
    args = ["--runner=DataflowRunner", "--temp_location", "gs://b/tmp", "--region=europe-west1"]
    assert option(args, "temp_location") == "gs://b/tmp"
    assert option(args, "region") == "europe-west1"
    assert option(args, "project") is None


def test_remote_temp_location_stages_under_it() -> None:
    staged = staging_dir(["--runner=DataflowRunner", "--temp_location=gs://bucket/tmp/"], "features")
    assert staged.startswith("gs://bucket/tmp/socialscore-features-") and is_remote(staged)
    assert FileSystems.join(staged, "block_00000.npz") == staged + "/block_00000.npz"
    assert staging_dir(["--runner=DataflowRunner", "--temp_location=gs://bucket/tmp/"], "features") != staged


def test_local_staging_without_remote_temp_location(tmp_path) -> None:
    local = staging_dir(["--temp_location", str(tmp_path)], "transform")
    assert not is_remote(local) and FileSystems.exists(local)
    remove_dir(local)
    assert not FileSystems.exists(local)


@pytest.mark.slow
def test_core_modules_do_not_import_beam() -> None:
    """Beam is the optional extra: the CLI, the steps and the Vertex pipeline load without it."""
    import subprocess
    import sys

    code = (
        "import sys, socialscore.terminal.app, socialscore.deploy.vertex, socialscore.beam.dataflow, "
        "socialscore.steps.transform, socialscore.steps.features, socialscore.pipeline.orchestrator; "
        "print('apache_beam' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
