"""The compiled twin of py3langid's ``LanguageIdentifier.classify`` (numba, no GIL), on its own model arrays.

py3langid walks a text's UTF-8 bytes through its DFA in a Python loop (``visit_counts``), then
scores the features it met with naive Bayes. Here one call walks a whole batch of texts (their bytes
joined, with offsets) and scores each: the same features, the same ``log1p(count)`` weights, the
same length temperature, softmax and alias folding (``srl`` → ``sr``). numba has no float16: the
model's float16 table is read as its bits and widened row by row with integer arithmetic (exact for
normal numbers, which :func:`widenable` checks the table holds), rather than copied as float32 (57 MB).
Sums are in float32 as numpy's are, but not in numpy's order: a confidence can differ in its last
bits, which matters only for a text sitting exactly on ``MIN_CONFIDENCE`` (benchmarks/bench_language.py
measures the agreement).
"""

from __future__ import annotations

import math

import numpy as np

from socialscore.text.token_numba import jit_cached


_HALF_SIGN = np.uint32(0x8000)
_HALF_MAGNITUDE = np.uint32(0x7FFF)
_REBIAS = np.uint32((127 - 15) << 23)  # float16 → float32 exponent bias


def widenable(bits: np.ndarray) -> bool:
    """True when every float16 (as uint16 bits) is a normal number: the kernel's widening is exact."""
    magnitude = bits & 0x7FFF
    return bool(((magnitude >= 0x0400) & (magnitude < 0x7C00)).all())


@jit_cached
def _widen_row(bits, row, out):
    for j in range(bits.shape[1]):
        h = np.uint32(bits[row, j])
        out[j] = ((h & _HALF_SIGN) << np.uint32(16)) | (((h & _HALF_MAGNITUDE) << np.uint32(13)) + _REBIAS)


FEATURE_MAJOR_MIN_TEXTS = 128  # from this many texts, score feature by feature (see classify_batch)


@jit_cached
def classify_batch(buf, starts, ends, nextmove, rowbase, output, ptc_bits, pc, alias, out_class, out_conf):
    """For each text ``buf[starts[d]:ends[d]]``: the best class index and its normalised probability.

    Scoring adds, per text, ``log1p(count) × row`` of the model's table for each feature met, in
    increasing feature order. The table is 28 MB read at random, so a batch is scored feature by
    feature (a counting sort of all (feature, text) pairs): each row is read once per batch, in
    address order. Both orders add a text's rows in the same sequence, so they give the same bits.
    """
    n_docs = starts.shape[0]
    n_classes = pc.shape[0]
    total_bytes = 0
    for d in range(n_docs):
        total_bytes += ends[d] - starts[d]
    features = np.empty(max(total_bytes, 1), np.int64)
    first = np.empty(n_docs + 1, np.int64)  # text d's features: features[first[d]:first[d + 1]]
    k = 0
    for d in range(n_docs):
        first[d] = k
        state = 0
        for i in range(starts[d], ends[d]):
            state = nextmove[rowbase[state] + buf[i]]
            f = output[state]
            if f >= 0:
                features[k] = f
                k += 1
    first[n_docs] = k
    scores = np.zeros((n_docs, n_classes), np.float32)
    widened = np.empty(n_classes, np.uint32)
    row_values = widened.view(np.float32)
    if n_docs < FEATURE_MAJOR_MIN_TEXTS:
        for d in range(n_docs):
            seen = np.sort(features[first[d] : first[d + 1]])
            i = 0
            while i < seen.shape[0]:
                f = seen[i]
                run = 1
                while i + run < seen.shape[0] and seen[i + run] == f:
                    run += 1
                weight = np.float32(math.log1p(run))
                _widen_row(ptc_bits, f, widened)
                for j in range(n_classes):
                    scores[d, j] += weight * row_values[j]
                i += run
    else:
        n_features = ptc_bits.shape[0]
        offsets = np.zeros(n_features + 1, np.int64)
        for i in range(k):
            offsets[features[i] + 1] += 1
        for f in range(n_features):
            offsets[f + 1] += offsets[f]
        doc_of = np.empty(max(k, 1), np.int64)  # stable by text: a feature's texts in increasing order
        fill = offsets[:-1].copy()
        for d in range(n_docs):
            for i in range(first[d], first[d + 1]):
                f = features[i]
                doc_of[fill[f]] = d
                fill[f] += 1
        for f in range(n_features):
            i = offsets[f]
            stop = offsets[f + 1]
            if i == stop:
                continue
            _widen_row(ptc_bits, f, widened)
            while i < stop:
                d = doc_of[i]
                run = 1
                while i + run < stop and doc_of[i + run] == d:
                    run += 1
                weight = np.float32(math.log1p(run))
                for j in range(n_classes):
                    scores[d, j] += weight * row_values[j]
                i += run
    for d in range(n_docs):
        row = scores[d]
        if first[d + 1] > first[d]:
            for j in range(n_classes):
                row[j] += pc[j]
        # py3langid's temperature: T = sqrt(bytes) keeps softmax calibrated across lengths
        scale = np.float32(1.0 / math.sqrt(max(ends[d] - starts[d], 1)))
        top = np.float32(-np.inf)
        for j in range(n_classes):
            row[j] *= scale
            top = max(top, row[j])
        total = np.float32(0.0)
        for j in range(n_classes):
            row[j] = np.float32(math.exp(row[j] - top))
            total += row[j]
        for j in range(n_classes):
            row[j] /= total
        for a in range(alias.shape[0]):
            row[alias[a, 0]] += row[alias[a, 1]]
            row[alias[a, 1]] = np.float32(0.0)
        best = 0
        for j in range(1, n_classes):
            if row[j] > row[best]:
                best = j
        out_class[d] = best
        out_conf[d] = row[best]
