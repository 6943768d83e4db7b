"""Serving: an ONNX encoder + head and its fast tokenizer, both read from bytes the model file holds.

Texts are tokenized once, then scored in batches of similar token length, each cut to its longest
text (little padding); results are put back in input order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from socialscore.modeling.transformer import require_serving

INPUTS = ("input_ids", "attention_mask")
TOKENIZE_CHUNK = 2048  # texts tokenized (and padded) at once: bounds the padded arrays' memory


def make_tokenizer(tokenizer_json: str, max_length: int):
    """The fast tokenizer, truncating at ``max_length`` tokens and padding each batch to its longest text."""
    require_serving()
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(tokenizer_json)
    tokenizer.enable_truncation(max_length=max_length)
    pad_id = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
    return tokenizer


def encode(tokenizer, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(input_ids, attention_mask) as int64 arrays, padded to the batch's longest text."""
    encodings = tokenizer.encode_batch(list(texts))
    ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
    mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
    return ids, mask


class OnnxScorer:
    """Raw per-label scores (logits) of texts from an exported model; no torch involved."""

    def __init__(self, onnx_bytes: bytes, tokenizer_json: str, max_length: int, batch_size: int = 32,
                 threads: int = 1) -> None:
        require_serving()
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        self.tokenizer = make_tokenizer(tokenizer_json, max_length)
        self.batch_size = batch_size
        self.n_outputs = int(self.session.get_outputs()[0].shape[-1])

    def raw_scores(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        out = np.empty((len(texts), self.n_outputs), dtype=np.float64)
        for start in range(0, len(texts), TOKENIZE_CHUNK):
            out[start:start + TOKENIZE_CHUNK] = self._score(texts[start:start + TOKENIZE_CHUNK])
        return out

    def _score(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.n_outputs), dtype=np.float64)
        if not texts:
            return out
        ids, mask = encode(self.tokenizer, texts)  # one call, padded to the chunk's longest text
        lengths = mask.sum(axis=1)
        order = np.argsort(lengths, kind="stable")  # batches of similar token lengths, cut to their longest
        for start in range(0, len(texts), self.batch_size):
            chosen = order[start:start + self.batch_size]
            width = max(1, int(lengths[chosen].max()))
            out[chosen] = self.session.run(None, {"input_ids": ids[chosen, :width],
                                                  "attention_mask": mask[chosen, :width]})[0]
        return out
