"""Vertex AI components that run pipeline steps as Dataflow jobs (``socialscore vertex compile --engine dataflow``).

Each is a container component in the project's image that runs ``socialscore run --engine beam`` with
the pipeline's ``dataflow_options`` as Beam options (``--runner=DataflowRunner --project=… --region=…
--temp_location=gs://… --sdk_container_image=<the image>``): the step's Beam pipeline is submitted to
Dataflow from the component, which waits for the job (as GCPC's ``DataflowPythonJobOp`` followed by
``WaitGcpResourcesOp`` would; GCPC itself requires ``google-cloud-aiplatform<2``, which the locked
``vertex`` extra is past). The step's inputs and outputs are staged under ``--temp_location``
(socialscore.beam.runner), the project directory travels between components as in vertex.py.

No Beam import here: compiling the pipeline needs kfp only.
"""

# no `from __future__ import annotations`: kfp reads the component signatures' real annotation objects

from typing import Any

# vertex.py's step runner, plus: $7 holds the Beam options, each passed as --beam-arg, and the
# steps run with --engine beam (only transform and features have a Beam form; extract and load
# in the same component run as usual).
BEAM_FLAGS = 'for o in $extra1; do set -- "$@" --beam-arg "$o"; done\nset -- "$@" --engine beam\n'


def beam_runner_script(run_steps: str) -> str:
    """vertex.py's ``_RUN_STEPS`` with the Beam engine and options added to the ``socialscore run`` line."""
    marker = "socialscore run "
    if marker not in run_steps:
        raise ValueError("the step runner script has no 'socialscore run' line")
    head, tail = run_steps.split(marker, 1)
    return head + BEAM_FLAGS + marker + tail


def dataflow_components(dsl: Any, image: str, run_steps: str) -> tuple[Any, Any]:
    """(dataflow_transform, dataflow_features): the first stage and the features stage on Dataflow."""
    script = beam_runner_script(run_steps)

    @dsl.container_component
    def dataflow_transform(mode: str, data_uri: str, sets: str, dataflow_options: str, project: dsl.Output[dsl.Artifact]):
        """extract and load here; transform as a Dataflow job (socialscore.beam.transform)."""
        return dsl.ContainerSpec(
            image=image,
            command=["sh", "-c", script, "dataflow-transform"],
            args=["", project.path, mode, "extract transform load", sets, data_uri, dataflow_options],
        )

    @dsl.container_component
    def dataflow_features(
        mode: str,
        sets: str,
        dataflow_options: str,
        project_in: dsl.Input[dsl.Artifact],
        project: dsl.Output[dsl.Artifact],
    ):
        """The features step as a Dataflow job (socialscore.beam.features: hashing featurizer only)."""
        return dsl.ContainerSpec(
            image=image,
            command=["sh", "-c", script, "dataflow-features"],
            args=[project_in.path, project.path, mode, "features", sets, "", dataflow_options],
        )

    return dataflow_transform, dataflow_features
