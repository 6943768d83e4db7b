"""Training (torch): the base encoder + mean pooling + a linear head per label, fine-tuned with
multi-label BCE, early stopping on a validation split and a CPU-time budget; then ONNX export.

Only training imports torch; serving reads the exported ONNX (runtime.py).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from socialscore.modeling.transformer import require_training
from socialscore.modeling.transformer.runtime import encode, make_tokenizer

log = logging.getLogger(__name__)


def _torch():
    require_training()
    import torch

    return torch


def build_classifier(n_labels: int, encoder_config: Any = None, seed: int = 42):
    """The classifier and its tokenizer's JSON: the shipped all-MiniLM-L6-v2 weights, or a randomly
    initialised BERT of ``encoder_config`` (tests) with the shipped tokenizer."""
    torch = _torch()
    from transformers import AutoModel, BertModel
    from transformers.utils import logging as hf_logging

    from socialscore.modeling.transformer.weights import base_model_dir

    hf_logging.disable_progress_bar()  # a run's output stays the pipeline's

    torch.manual_seed(seed)
    source = base_model_dir()
    if encoder_config is None:
        encoder = AutoModel.from_pretrained(source, local_files_only=True, attn_implementation="eager")
    else:
        encoder = BertModel(encoder_config)
    tokenizer_json = (source / "tokenizer.json").read_text(encoding="utf-8")
    return Classifier(encoder, n_labels), tokenizer_json


def _classifier_class():
    torch = _torch()

    class _Classifier(torch.nn.Module):
        """Mean-pooled encoder states → dropout → one logit per label."""

        def __init__(self, encoder: Any, n_labels: int) -> None:
            super().__init__()
            self.encoder = encoder
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(encoder.config.hidden_size, n_labels)

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return self.head(self.dropout(pooled))

    return _Classifier


def Classifier(encoder: Any, n_labels: int):
    return _classifier_class()(encoder, n_labels)


@dataclass
class FitResult:
    history: list[dict[str, float]] = field(default_factory=list)  # one entry per validation pass
    stopped: str = "epochs"  # epochs | early | budget
    steps: int = 0
    examples: int = 0
    cpu_seconds: float = 0.0
    best_step: int = 0


def fine_tune(
    module: Any, tokenizer_json: str, texts: Sequence[str], Y: np.ndarray, val_texts: Sequence[str],
    val_Y: np.ndarray, *, max_length: int, batch_size: int, epochs: int, learning_rate: float,
    head_learning_rate: float, time_budget_s: float | None, patience: int, evaluations_per_epoch: int,
    seed: int, threads: int,
) -> FitResult:
    """Fine-tune ``module`` in place; on return it holds the weights of the best validation loss.

    The budget is process CPU time (all threads), checked between batches; the validation passes
    count in it."""
    torch = _torch()
    torch.set_num_threads(threads)
    tokenizer = make_tokenizer(tokenizer_json, max_length)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    Y = np.asarray(Y, dtype=np.float32)
    n_batches = max(1, -(-len(texts) // batch_size))
    every = max(1, n_batches // max(1, evaluations_per_epoch))
    head = [p for n, p in module.named_parameters() if n.startswith("head.")]
    body = [p for n, p in module.named_parameters() if not n.startswith("head.")]
    optimiser = torch.optim.AdamW(
        [{"params": body, "lr": learning_rate}, {"params": head, "lr": head_learning_rate}], weight_decay=0.01
    )
    total = epochs * n_batches
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    result = FitResult()
    best_loss, best_state, waited = float("inf"), None, 0
    start = time.process_time()

    def validate() -> bool:
        """One validation pass; True when it is the best so far."""
        nonlocal best_loss, best_state, waited
        module.eval()
        logits = predict_logits(module, tokenizer, val_texts, batch_size * 2)
        module.train()
        loss = float(loss_fn(torch.from_numpy(logits), torch.from_numpy(np.asarray(val_Y, dtype=np.float32))))
        result.history.append({"step": result.steps, "examples": result.examples, "val_loss": round(loss, 5),
                               "cpu_seconds": round(time.process_time() - start, 1)})
        log.info("transformer step %d (%d examples): validation loss %.4f", result.steps, result.examples, loss)
        if loss < best_loss - 1e-4:
            best_loss, best_state, waited, result.best_step = loss, copy.deepcopy(module.state_dict()), 0, result.steps
            return True
        waited += 1
        return False

    module.train()
    done = False
    for _epoch in range(epochs):
        order = rng.permutation(len(texts))
        for b in range(n_batches):
            chosen = order[b * batch_size:(b + 1) * batch_size]
            if len(chosen) == 0:
                continue
            ids, mask = encode(tokenizer, [texts[i] for i in chosen])
            logits = module(torch.from_numpy(ids), torch.from_numpy(mask))
            loss = loss_fn(logits, torch.from_numpy(Y[chosen]))
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            result.steps += 1
            result.examples += len(chosen)
            if result.steps % every == 0:
                validate()
                if waited >= patience:
                    result.stopped, done = "early", True
                    break
            if time_budget_s is not None and time.process_time() - start >= time_budget_s:
                result.stopped, done = "budget", True
                break
        if done:
            break
    if not result.history or result.history[-1]["step"] != result.steps:
        validate()
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    result.cpu_seconds = round(time.process_time() - start, 1)
    return result


def predict_logits(module: Any, tokenizer: Any, texts: Sequence[str], batch_size: int) -> np.ndarray:
    """Raw logits from the torch module (validation during training)."""
    torch = _torch()
    out = []
    order = np.argsort([len(t) for t in texts], kind="stable")
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            chosen = order[start:start + batch_size]
            ids, mask = encode(tokenizer, [texts[i] for i in chosen])
            out.append((chosen, module(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()))
    logits = np.empty((len(texts), module.head.out_features), dtype=np.float32)
    for chosen, values in out:
        logits[chosen] = values
    return logits


def export_onnx(module: Any, directory: Path) -> Path:
    """The module (encoder + pooling + head) as ONNX with dynamic batch and sequence axes."""
    torch = _torch()
    path = directory / "model_fp32.onnx"
    ids = torch.ones((2, 8), dtype=torch.long)
    mask = torch.ones((2, 8), dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}, "logits": {0: "batch"}}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(module, (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
                          output_names=["logits"], dynamic_axes=axes, opset_version=17, dynamo=False)
    return path


def quantize_int8(source: Path) -> Path:
    """Dynamic int8 quantisation of the weights (ONNX Runtime); activations stay float."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = source.with_name("model_int8.onnx")
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    return target
