"""Compiled SGD for the out-of-core trainer: every model of every label learns in one pass over a block.

sklearn's ``SGDClassifier(loss="log_loss", penalty="l2", learning_rate="optimal")`` step for sparse
input, written out per row for many models at once: ``WR[bucket, model]`` holds each model's weight
next to its NB ratio (a row's nonzeros touch one contiguous run of memory for all the models of a
table; measured ~25% faster than separate weight and ratio tables at 1M), sklearn's weight-scale trick for the L2 shrink, its ``t0`` heuristic for ``eta``, its
intercept decay for sparse input (0.01) and class weights. Model ``m < F`` of a label is fold ``m``'s
CV model, model ``F`` the final one. Compiled with numba (no GIL, so labels can run on threads);
without numba the trainer falls back to sklearn's ``partial_fit`` (``AVAILABLE``).
"""

from __future__ import annotations

import math

import numpy as np

try:
    import numba

    AVAILABLE = True
except ImportError:  # pragma: no cover - numba is a core dependency
    numba = None
    AVAILABLE = False

SPARSE_INTERCEPT_DECAY = 0.01  # sklearn.linear_model._base.SPARSE_INTERCEPT_DECAY
RESET_WSCALE = 1e-9  # sklearn's WeightVector64 threshold


def _jit(function):
    if not AVAILABLE:
        return function
    try:
        return numba.njit(cache=True, nogil=True)(function)
    except RuntimeError:  # no writable cache location (read-only install): compile per process
        return numba.njit(cache=False, nogil=True)(function)


def optimal_t0(alpha: float) -> float:
    """sklearn's ``optimal_init``: ``eta = 1 / (alpha * (t0 + t - 1))`` starts near ``1 / sqrt(alpha)``."""
    typw = math.sqrt(1.0 / math.sqrt(alpha))
    return 1.0 / (typw * alpha)  # initial_eta0 = typw / max(1, gradient(1, -typw)) = typw for log loss


def slots(labels: np.ndarray, n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """Each weight column's (label, model) when ``labels`` share one weight table: label by label,
    fold models ``0..n_models-2`` then the final model."""
    labels = np.asarray(labels, dtype=np.int64)
    return np.repeat(labels, n_models), np.tile(np.arange(n_models, dtype=np.int64), len(labels))


@_jit
def sgd_block(indptr, indices, data, order, y, folds, cv, slot_label, slot_model, final, running, cross, class_w,
              WR, wscale, intercept, t, alpha, t0, loss):
    """Visit the block's rows in ``order``. ``WR[bucket, s]`` holds the weight and the NB ratio of
    model ``slot_model[s]`` of label ``slot_label[s]``: a fold's model, or the label's
    final model when it is ``final``. For each running label a row first adds its log loss
    under the model that must not learn from it (its fold's model when ``cross[label]``, else the final
    model before its update) to ``loss[label] = (sum, rows)``; then every model outside its fold (fold
    models only when ``cv[row]``) and the final model take one SGD step on it. One pass over the row's
    nonzeros reads every model of the table, one more updates them."""
    n_slots = WR.shape[1]
    margin = np.zeros(n_slots)
    step = np.zeros(n_slots)
    chosen = np.zeros(n_slots, dtype=np.int64)
    for r in order:
        a, b = indptr[r], indptr[r + 1]
        k = folds[r]
        n = 0
        for s in range(n_slots):
            i, m = slot_label[s], slot_model[s]
            if running[i] and (m == final or (cross[i] and (m == k or cv[r]))):
                chosen[n] = s
                margin[n] = 0.0
                n += 1
        for q in range(a, b):
            c, x = indices[q], np.float64(data[q])
            for u in range(n):
                s = chosen[u]
                margin[u] += WR[c, s, 0] * (x * WR[c, s, 1])
        for u in range(n):
            s = chosen[u]
            i, m = slot_label[s], slot_model[s]
            target = y[r, i]
            p = margin[u] * wscale[s] + intercept[s]
            step[u] = 0.0
            held = cross[i] and m == k  # the row's own fold model: scored, never trained on it
            if held or (m == final and not cross[i]):
                z = p if target else -p
                loss[i, 0] += max(-z, 0.0) + math.log1p(math.exp(-abs(z)))
                loss[i, 1] += 1.0
                if held:
                    continue
            if p > -37.0:  # sklearn's cgradient_half_binomial
                e = math.exp(-p)
                gradient = ((1 - target) - target * e) / (1.0 + e)
            else:
                gradient = math.exp(p) - target
            eta = 1.0 / (alpha * (t0 + t[s] - 1.0))
            update = -eta * gradient * class_w[i, target]
            wscale[s] *= max(0.0, 1.0 - eta * alpha)
            if wscale[s] < RESET_WSCALE:
                for c in range(WR.shape[0]):
                    WR[c, s, 0] *= wscale[s]
                wscale[s] = 1.0
            step[u] = update / wscale[s]
            intercept[s] += update * SPARSE_INTERCEPT_DECAY
            t[s] += 1.0
        for q in range(a, b):
            c, x = indices[q], np.float64(data[q])
            for u in range(n):
                s = chosen[u]
                WR[c, s, 0] += (x * WR[c, s, 1]) * step[u]


@_jit
def score_block(indptr, indices, data, folds, slot_label, slot_model, cross, WR, wscale, intercept, out):
    """``out[row, label]``: each row's raw score under its own fold's model, for the labels of the
    table that are cross-validated."""
    for r in range(len(indptr) - 1):
        k = folds[r]
        for s in range(WR.shape[1]):
            i = slot_label[s]
            if not cross[i] or slot_model[s] != k:
                continue
            total = 0.0
            for q in range(indptr[r], indptr[r + 1]):
                c = indices[q]
                total += WR[c, s, 0] * (np.float64(data[q]) * WR[c, s, 1])
            out[r, i] = total * wscale[s] + intercept[s]
