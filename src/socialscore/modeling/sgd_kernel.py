"""Compiled SGD for the out-of-core trainer: every model of every label learns in one pass over a block.

sklearn's ``SGDClassifier(loss="log_loss", penalty="l2", learning_rate="optimal")`` step for sparse
input, written out per row for many models at once: weights ``W[label, bucket, model]`` (a row's
nonzeros touch one contiguous run of models per label), each model's NB ratios ``R`` in the same
layout, sklearn's weight-scale trick for the L2 shrink, its ``t0`` heuristic for ``eta``, its
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


@_jit
def sgd_block(indptr, indices, data, order, y, folds, cv, labels, cross, class_w, W, R, wscale, intercept, t,
              alpha, t0, loss):
    """Visit the block's rows in ``order``; for each label in ``labels`` the row first adds its log loss
    under the model that must not learn from it (its fold's model when ``cross[label]``, else the final
    model before its update) to ``loss[label] = (sum, rows)``, then every model outside its fold
    (fold models only when ``cv[row]``) and the final model take one SGD step on it."""
    n_models = W.shape[2]
    final = n_models - 1
    margin = np.zeros(n_models)
    step = np.zeros(n_models)
    chosen = np.zeros(n_models, dtype=np.int64)
    for r in order:
        a, b = indptr[r], indptr[r + 1]
        k = folds[r]
        for i in labels:
            own = k if cross[i] else -1  # the model scored on this row and kept from learning it
            n = 0
            if cross[i]:
                for m in range(final):
                    if m == k or cv[r]:
                        chosen[n] = m
                        n += 1
            chosen[n] = final
            n += 1
            for u in range(n):
                margin[chosen[u]] = 0.0
            for q in range(a, b):
                c, x = indices[q], np.float64(data[q])
                for u in range(n):
                    m = chosen[u]
                    margin[m] += W[i, c, m] * (x * np.float64(R[i, c, m]))
            target = y[r, i]
            weight = class_w[i, target]
            for u in range(n):
                m = chosen[u]
                p = margin[m] * wscale[i, m] + intercept[i, m]
                step[m] = 0.0
                if m == own or (own < 0 and m == final):
                    z = p if target else -p
                    loss[i, 0] += max(-z, 0.0) + math.log1p(math.exp(-abs(z)))
                    loss[i, 1] += 1.0
                    if m == own:
                        continue
                if p > -37.0:  # sklearn's cgradient_half_binomial
                    e = math.exp(-p)
                    gradient = ((1 - target) - target * e) / (1.0 + e)
                else:
                    gradient = math.exp(p) - target
                eta = 1.0 / (alpha * (t0 + t[i, m] - 1.0))
                update = -eta * gradient * weight
                wscale[i, m] *= max(0.0, 1.0 - eta * alpha)
                if wscale[i, m] < RESET_WSCALE:
                    for c in range(W.shape[1]):
                        W[i, c, m] *= wscale[i, m]
                    wscale[i, m] = 1.0
                step[m] = update / wscale[i, m]
                intercept[i, m] += update * SPARSE_INTERCEPT_DECAY
                t[i, m] += 1.0
            for q in range(a, b):
                c, x = indices[q], np.float64(data[q])
                for u in range(n):
                    m = chosen[u]
                    W[i, c, m] += (x * np.float64(R[i, c, m])) * step[m]


@_jit
def score_block(indptr, indices, data, folds, labels, W, R, wscale, intercept, out):
    """``out[row, label]``: the raw score of each row under its own fold's model, for ``labels``."""
    for r in range(len(indptr) - 1):
        k = folds[r]
        for i in labels:
            s = 0.0
            for q in range(indptr[r], indptr[r + 1]):
                c = indices[q]
                s += W[i, c, k] * (np.float64(data[q]) * np.float64(R[i, c, k]))
            out[r, i] = s * wscale[i, k] + intercept[i, k]
