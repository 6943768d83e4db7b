"""Out-of-core NB-LR training: one pass of column sums, SGD ``partial_fit`` epochs over row blocks.

The same model family as ``model.type: nb_logistic`` (NB log-count ratios, L2 logistic regression
by SGD, Platt calibration on out-of-fold scores, threshold chosen out of fold), reorganised so no
fold's rows are ever gathered into one matrix:

* folds come from a hash of each row's id (:func:`hash_folds`), not from a stratified shuffle;
* one pass over the blocks sums every column per fold, overall and over each label's positives, so
  every (label, fold) NB ratio is "all rows minus this fold's rows";
* per label, the CV models and the final model learn together: every epoch visits the blocks in a
  new random order, rows shuffled within the block, and each model takes the block's rows outside
  its fold (the final model takes all), scaled by its own ratios;
* a last pass scores each row with the model that did not see it.

It returns the same ``(SocialScoreModel, report)`` as ``steps.train.train_model``.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import scipy.sparse as sp

from socialscore.errors import DataError
from socialscore.modeling.training import sgd_kernel
from socialscore.modeling.training.estimators import (
    SocialScoreModel,
    fallback_reason,
    label_matrix,
    resolve_labels,
)
from socialscore.modeling.training.out_of_core_blocks import CsrBlocks, hash_folds
from socialscore.modeling.training.prior import calibrate_and_threshold

OUT_OF_CORE = "out_of_core"
IN_MEMORY = "in_memory"
# the in-memory trainer's peak per training non-zero, all processes: measured 3.48 GB summed for
# ~76M non-zeros (160k generated comments, 2026-12-07); 12 bytes a copy (float32 + int32 index)
BYTES_PER_NNZ = 48


def choose_trainer(settings: Any, n_rows: int, nnz: int) -> str:
    """``train.trainer`` when set, else out-of-core above ``train.out_of_core_rows`` or the memory budget."""
    chosen = settings.train.trainer
    if chosen != "auto":
        return chosen
    if settings.model.type != "nb_logistic":
        return IN_MEMORY
    too_big = nnz * BYTES_PER_NNZ > settings.train.memory_budget * 2**20
    return OUT_OF_CORE if too_big or n_rows > settings.train.out_of_core_rows else IN_MEMORY


class ColumnSums:
    """Per fold: row counts, column sums over all rows and over each label's positive rows."""

    def __init__(self, blocks: Any, Y: np.ndarray, folds: np.ndarray, n_folds: int) -> None:
        n_labels, width = Y.shape[1], blocks.n_features
        self.total = np.zeros((n_folds, width), dtype=np.float64)
        self.positive = np.zeros((n_folds, n_labels, width), dtype=np.float32)
        for start, block in blocks:
            stop = start + block.shape[0]
            for k in range(n_folds):
                mine = np.flatnonzero(folds[start:stop] == k)
                if not len(mine):
                    continue
                part = block[mine]
                self.total[k] += np.asarray(part.sum(axis=0)).ravel()
                self.positive[k] += np.asarray((part.T @ Y[start:stop][mine].astype(np.float32)).T)

    def release(self) -> None:
        """Free the sums (no :meth:`ratio` after this)."""
        del self.total, self.positive

    def ratio(self, label: int, held_out: int | None, alpha: float) -> np.ndarray:
        """NB log-count ratio of ``label`` over all rows outside fold ``held_out`` (None: all rows)."""
        keep = [k for k in range(len(self.total)) if k != held_out]
        total = self.total[keep].sum(axis=0)
        pos = alpha + self.positive[keep, label].sum(axis=0, dtype=np.float64)
        neg = alpha + total - (pos - alpha)
        return np.log((pos / pos.sum()) / (neg / neg.sum()))


def _sgd(params: dict[str, Any], class_weight: dict[int, float] | None) -> Any:
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(
        loss="log_loss",
        alpha=params.get("alpha", 3e-5),
        class_weight=class_weight,
        random_state=params.get("random_state", 42),
    )


def _class_weight(params: dict[str, Any], y: np.ndarray) -> dict[int, float] | None:
    if params.get("class_weight") != "balanced":
        return None
    counts = np.bincount(y.astype(int), minlength=2)
    return {c: len(y) / (2 * max(int(counts[c]), 1)) for c in (0, 1)}


def _scaled(block: sp.csr_matrix, rows: np.ndarray, ratio: np.ndarray) -> sp.csr_matrix:
    part = block[rows]
    data = part.data.astype(np.float64) * ratio[part.indices]
    return sp.csr_matrix((data, part.indices, part.indptr), shape=part.shape)


# the in-memory SGD's stopping rule (models.logistic_estimator): stop once the loss has failed to
# improve on the best by TOL for N_ITER_NO_CHANGE epochs in a row
TOL = 1e-3
N_ITER_NO_CHANGE = 2


def _log_loss_sum(model: Any, X: sp.csr_matrix, y: np.ndarray) -> float:
    """Summed log loss of ``model`` on (X, y): log(1 + exp(-s·d)), s = ±1."""
    margin = model.decision_function(X) * (2.0 * y - 1.0)
    return float(np.logaddexp(0.0, -margin).sum())


def _stalled(history: list[float]) -> bool:
    """sklearn's rule over the epoch losses so far (``n_iter_no_change``, ``tol``)."""
    best, stale = np.inf, 0
    for loss in history:
        stale = stale + 1 if loss > best - TOL else 0
        best = min(best, loss)
    return stale >= N_ITER_NO_CHANGE


def cv_subsample(n: int, max_rows: int | None, seed: int) -> np.ndarray | None:
    """Rows the fold models may learn from (``train.cv_max_rows``): all (None) or a seeded sample."""
    if max_rows is None or n <= max_rows:
        return None
    return np.random.default_rng(seed).random(n) < max_rows / n


def fit_label(
    blocks: Any, y: np.ndarray, folds: np.ndarray, sums: ColumnSums, j: int, n_folds: int, params: dict[str, Any],
    cross_validate: bool, cv_rows: np.ndarray | None = None,
) -> tuple[list[tuple[np.ndarray, float]], np.ndarray | None, list[float]]:
    """Fit label ``j``'s fold models (when ``cross_validate``) and final model; return each model's
    (coef on unscaled features, intercept), the final model last, the out-of-fold raw scores, and the
    loss of each epoch that ran.

    Epochs stop early (at most ``model.epochs``): the loss is the fold models' log loss on their own
    held-out rows, each block scored just before the models learn from it (progressive validation),
    or without CV the final model's loss on each block before it learns from it. The final model
    learns in step with the fold models, so it runs the epochs the CV loss chose. ``cv_rows`` (a
    boolean mask) limits the rows the fold models learn from; every row is still scored out of fold.
    """
    alpha = params.get("nb_alpha", 1.0)
    fold_ids: list[int | None] = (list(range(n_folds)) if cross_validate else []) + [None]
    ratios = [sums.ratio(j, k, alpha) for k in fold_ids]
    weight = _class_weight(params, y)
    models = [_sgd(params, weight) for _ in fold_ids]
    rng = np.random.default_rng(params.get("random_state", 42) + j)
    workers = max(1, min(len(models), _cpus(params.get("n_jobs", -1))))
    history: list[float] = []
    with ThreadPoolExecutor(workers) as pool:
        for _ in range(params.get("epochs", 10)):
            loss = np.zeros((len(models), 2))  # summed loss, rows
            for number in rng.permutation(len(blocks.starts)):
                start, block = blocks.starts[number], blocks.block(number)
                stop = start + block.shape[0]
                order = rng.permutation(block.shape[0])
                block_folds, block_y = folds[start:stop][order], y[start:stop][order]
                block_cv = None if cv_rows is None else cv_rows[start:stop][order]
                shuffled = block[order]

                def step(i: int, shuffled=shuffled, block_folds=block_folds, block_y=block_y, block_cv=block_cv, loss=loss) -> None:
                    k, model = fold_ids[i], models[i]
                    if k is None:
                        rows = np.arange(len(block_y))
                        held = rows if not cross_validate else rows[:0]
                    else:
                        outside = block_folds != k
                        held = np.flatnonzero(~outside)
                        rows = np.flatnonzero(outside if block_cv is None else outside & block_cv)
                    if len(held) and hasattr(model, "coef_"):
                        loss[i] += (_log_loss_sum(model, _scaled(shuffled, held, ratios[i]), block_y[held]), len(held))
                    if len(rows):
                        model.partial_fit(_scaled(shuffled, rows, ratios[i]), block_y[rows], classes=[0, 1])

                list(pool.map(step, range(len(models))))
            total = loss.sum(axis=0)
            history.append(float(total[0] / total[1]) if total[1] else float("nan"))
            if total[1] and _stalled(history):
                break
    fitted = [
        (m.coef_.ravel() * r, float(m.intercept_[0])) if hasattr(m, "coef_") else (np.zeros_like(r), 0.0)
        for m, r in zip(models, ratios, strict=True)
    ]
    if not cross_validate:
        return fitted, None, history
    raw = np.empty(len(y))
    for start, block in blocks:
        stop = start + block.shape[0]
        for k in range(n_folds):
            mine = np.flatnonzero(folds[start:stop] == k)
            if len(mine):
                coef, intercept = fitted[k]
                raw[start + mine] = block[mine] @ coef + intercept
    return fitted, raw, history


def fit_labels(
    blocks: Any, Y: np.ndarray, folds: np.ndarray, sums: ColumnSums, todo: list[int], cross: list[bool],
    n_folds: int, params: dict[str, Any], cv_rows: np.ndarray | None = None,
) -> tuple[list[tuple[np.ndarray, float]], np.ndarray, dict[int, list[float]]]:
    """:func:`fit_label` for the labels ``todo`` at once with the compiled kernel (``sgd_kernel``): one
    pass over each block per epoch trains every model of every label still running. The labels are
    split across threads (``model.n_jobs``); a thread's labels share one final-model table
    ``[bucket, label]`` and one fold-model table ``[bucket, label × fold]``, so a row outside
    ``cv_rows`` touches only the final models' weights.
    Returns each label's final (coef, intercept), the out-of-fold raw scores (columns in ``todo``
    order, NaN for labels without CV) and each label's epoch losses."""
    from socialscore.modeling.training.sgd_kernel import optimal_t0, score_block, sgd_block, slots

    n_labels = len(todo)
    nb_alpha, alpha = params.get("nb_alpha", 1.0), params.get("alpha", 3e-5)
    workers = max(1, min(n_labels, _cpus(params.get("n_jobs", -1))))
    tables: list[list[tuple]] = []  # per thread: its labels' final-model table, then its fold-model table
    for group in np.array_split(np.arange(n_labels), workers):
        folded = [i for i in group if cross[i]]
        layouts = [(group, np.full(len(group), n_folds))] + ([slots(folded, n_folds)] if folded else [])
        tables.append([_table(blocks.n_features, *layout, todo, n_folds, sums, nb_alpha) for layout in layouts])
    sums.release()  # the ratios are in the tables now
    Y = np.ascontiguousarray(Y[:, todo], dtype=np.int8)
    class_w = np.ones((n_labels, 2))
    for i in range(n_labels):
        weight = _class_weight(params, Y[:, i])
        class_w[i] = [1.0, 1.0] if weight is None else [weight[0], weight[1]]
    cross_flags = np.asarray(cross, dtype=np.bool_)
    cv = np.ones(len(Y), dtype=np.bool_) if cv_rows is None else cv_rows
    rng = np.random.default_rng(params.get("random_state", 42))
    history: dict[int, list[float]] = {i: [] for i in range(n_labels)}
    running = np.ones(n_labels, dtype=np.bool_)
    t0 = optimal_t0(alpha)
    with ThreadPoolExecutor(workers) as pool:
        for _ in range(params.get("epochs", 10)):
            if not running.any():
                break
            loss = np.zeros((n_labels, 2))
            for number in rng.permutation(len(blocks.starts)):
                start, block = blocks.starts[number], blocks.block(number)
                stop = start + block.shape[0]
                order = rng.permutation(block.shape[0])
                block_cv = cv[start:stop]
                args = (block.indptr, block.indices, block.data)
                rest = (Y[start:stop], folds[start:stop], block_cv)
                # the fold models learn from (and are scored on) the cv rows only; the final models on all
                orders = (order, order[block_cv[order]])

                def learn(group, args=args, rest=rest, orders=orders, loss=loss) -> None:
                    for table, rows in zip(group, orders, strict=False):
                        sgd_block(*args, rows, *rest, *table[:2], n_folds, running, cross_flags, class_w, *table[2:],
                                  alpha, t0, loss)

                list(pool.map(learn, tables))
            for i in np.flatnonzero(running):
                history[i].append(float(loss[i, 0] / loss[i, 1]) if loss[i, 1] else float("nan"))
                running[i] = not (loss[i, 1] and _stalled(history[i]))
    raw = np.full((len(Y), n_labels), np.nan)
    if cross_flags.any():
        for start, block in blocks:
            part = slice(start, start + block.shape[0])
            for table in (group[1] for group in tables if len(group) > 1):
                score_block(block.indptr, block.indices, block.data, folds[part], *table[:2], cross_flags, *table[2:5],
                            raw[part])
    fitted: list[tuple[np.ndarray, float]] = [(np.empty(0), 0.0)] * n_labels
    for slot_label, _, WR, wscale, intercept, _ in (group[0] for group in tables):
        for s, i in enumerate(slot_label):
            fitted[i] = (WR[:, s, 0] * wscale[s] * WR[:, s, 1], float(intercept[s]))
    return fitted, raw, history


def _table(width: int, slot_label: np.ndarray, slot_model: np.ndarray, todo: list[int], n_folds: int,
           sums: ColumnSums, nb_alpha: float) -> tuple:
    """A table for the kernel: slot labels and models, weights beside NB ratios, wscale, intercept, t."""
    slot_label, slot_model = np.asarray(slot_label, dtype=np.int64), np.asarray(slot_model, dtype=np.int64)
    WR = np.zeros((width, len(slot_label), 2))
    for s, (i, m) in enumerate(zip(slot_label, slot_model, strict=True)):
        WR[:, s, 1] = sums.ratio(todo[i], None if m == n_folds else int(m), nb_alpha)
    n = len(slot_label)
    return slot_label, slot_model, WR, np.ones(n), np.zeros(n), np.ones(n)


def _cpus(n_jobs: int) -> int:
    from joblib import cpu_count

    return cpu_count() if n_jobs < 0 else max(1, n_jobs)


class _Packed:
    """A fitted per-label estimator as ``SocialScoreModel._pack`` expects it."""

    def __init__(self, coef: np.ndarray, intercept: float) -> None:
        self.coef_, self.intercept_ = coef, intercept


def train_out_of_core(
    blocks: Any, row_ids: np.ndarray, y_data: np.ndarray, data_labels: list[str], settings: Any
) -> tuple[SocialScoreModel, dict[str, Any]]:
    """NB-LR by SGD over row ``blocks`` (:class:`CsrBlocks` / :class:`NpzBlocks`); see the module docstring."""
    if settings.model.type != "nb_logistic":
        raise DataError(f"the out-of-core trainer fits nb_logistic models, not {settings.model.type}")
    labels, primary = resolve_labels(data_labels, settings.train.primary_label)
    Y = label_matrix(y_data, data_labels, labels)
    params = settings.model.model_dump(mode="json", exclude={"type"})
    n_folds = settings.train.cv_folds
    n = blocks.n_rows
    if n < n_folds:
        raise DataError(f"{n} training rows are too few for {n_folds}-fold cross-validation")
    t0 = time.perf_counter()
    folds = hash_folds(row_ids, n_folds)
    sums = ColumnSums(blocks, Y, folds, n_folds)
    sums_seconds = time.perf_counter() - t0
    model = SocialScoreModel("nb_logistic", labels, primary, params)
    model.n_features_ = blocks.n_features
    model.priors_ = Y.mean(axis=0)
    model.estimators_ = {}
    skipped: dict[str, str] = {}
    epochs: dict[str, list[float]] = {}
    cv_rows = cv_subsample(n, getattr(settings.train, "cv_max_rows", None), params.get("random_state", 42))
    todo, cross = [], []
    for j, label in enumerate(labels):
        whole = fallback_reason(Y[:, j], 2)
        if whole:
            model.fallbacks[label] = whole
            skipped[label] = whole
            continue
        reason = fallback_reason(Y[:, j], n_folds)
        if reason:
            skipped[label] = reason
        todo.append(j)
        cross.append(reason is None)
    if sgd_kernel.AVAILABLE:
        finals, raws, histories = fit_labels(blocks, Y, folds, sums, todo, cross, n_folds, params, cv_rows)
    else:  # sklearn's partial_fit, label by label
        runs = [fit_label(blocks, Y[:, j], folds, sums, j, n_folds, params, cross_validate=c, cv_rows=cv_rows)
                for j, c in zip(todo, cross, strict=True)]
        finals, histories = [fitted[-1] for fitted, _, _ in runs], [history for _, _, history in runs]
        raws = np.column_stack([raw if raw is not None else np.full(n, np.nan) for _, raw, _ in runs] or [np.empty((n, 0))])
    # allocated once the weight tables are gone; the scores themselves when every label was fitted
    raw_oof = raws if todo == list(range(len(labels))) else np.full((n, len(labels)), np.nan)
    for i, j in enumerate(todo):
        model.estimators_[j] = _Packed(*finals[i])
        epochs[labels[j]] = histories[i]
        if raw_oof is not raws:
            raw_oof[:, j] = raws[:, i]
    model._pack()
    fit_seconds = time.perf_counter() - t0
    thresholds, report, prevalence = calibrate_and_threshold(
        model, raw_oof, Y, labels, folds, n_folds, skipped, settings
    )
    model.threshold = thresholds[primary]
    timing = {"column_sums": round(sums_seconds, 3), "cv_and_final_fit": round(fit_seconds, 3)}
    return model, {"cv": report, "seconds": timing, "fallbacks": dict(model.fallbacks), "trainer": OUT_OF_CORE,
                   "thresholds": thresholds, "epoch_losses": {k: [round(v, 5) for v in h] for k, h in epochs.items()},
                   "prevalence": prevalence, "cv_rows": None if cv_rows is None else int(cv_rows.sum()),
                   "oof_proba": model.calibrated(raw_oof)}  # NaN for rows outside the CV subset


def train_in_blocks(
    X: sp.csr_matrix, row_ids: np.ndarray, y_data: np.ndarray, data_labels: list[str], settings: Any
) -> tuple[SocialScoreModel, dict[str, Any]]:
    """:func:`train_out_of_core` over row-block views of an in-memory matrix (no fold copies)."""
    return train_out_of_core(CsrBlocks(X), row_ids, y_data, data_labels, settings)
