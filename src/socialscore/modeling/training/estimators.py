"""Multi-label toxicity models: one estimator per label, calibrated from out-of-fold scores.

:class:`SocialScoreModel` is what gets pickled. Linear types (``logistic_regression``,
``nb_logistic``) are packed into one coefficient matrix after fitting, so scoring every label is one
sparse matrix product. ``random_forest`` keeps a chi²-selected feature subset per label. Every type
gets Platt scaling fitted on the cross-validation's out-of-fold scores (:meth:`calibrate`). Cross-validation and thresholds are in modeling/training/validation.py, the
metrics in modeling/training/metrics.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from socialscore.errors import ConfigError
from socialscore.modeling.training.metrics import _constant

MODEL_TYPES = ("nb_logistic", "logistic_regression", "random_forest")
LINEAR_TYPES = ("nb_logistic", "logistic_regression")
ANY_LABEL = "any"
_EPS = 1e-6
Advance = Callable[[int], None]  # rows just done
# ``progress(description, total_rows)`` → a context manager yielding ``advance`` (StepContext.row_progress)
Progress = Callable[[str, int | None], AbstractContextManager[Advance]]


def no_progress(description: str, total: int | None) -> AbstractContextManager[Advance]:
    return nullcontext(lambda rows: None)


# --- labels -------------------------------------------------------------------------------------
def resolve_labels(data_labels: Sequence[str], primary: str) -> tuple[list[str], str]:
    """The model's labels and primary label for config ``train.primary_label``.

    ``auto`` → ``toxic`` if present, else the first label; ``any`` → a derived label "any" (any label
    positive) appended to the labels.
    """
    labels = list(data_labels)
    if not labels:
        raise ConfigError("no label columns to train on")
    if primary == "auto":
        return labels, "toxic" if "toxic" in labels else labels[0]
    if primary == ANY_LABEL:
        return (labels if ANY_LABEL in labels else labels + [ANY_LABEL]), ANY_LABEL
    if primary not in labels:
        raise ConfigError(
            f"train.primary_label {primary!r} is not a label; use auto, any or one of {', '.join(labels)}"
        )
    return labels, primary


def label_matrix(y: np.ndarray, data_labels: Sequence[str], model_labels: Sequence[str]) -> np.ndarray:
    """The 0/1 matrix with one column per model label (the derived "any" = any data label is 1)."""
    y = np.asarray(y).reshape(len(y), -1)
    columns = []
    for label in model_labels:
        if label in data_labels:
            columns.append(y[:, list(data_labels).index(label)])
        elif label == ANY_LABEL:
            columns.append(y.max(axis=1) if y.shape[1] else np.zeros(len(y)))
        else:
            raise ValueError(f"label {label!r} is not in the data labels")
    return np.column_stack(columns).astype(np.int8) if columns else np.zeros((len(y), 0), np.int8)


# --- per-label estimators -----------------------------------------------------------------------
class NBLogistic:
    """Logistic regression on naive-Bayes log-count-ratio scaled features (NB-LR, Wang & Manning)."""

    def __init__(self, params: dict[str, Any]):
        self.params = params

    def fit(self, X: sp.csr_matrix, y: np.ndarray) -> NBLogistic:
        return self.fit_rows(sp.csr_matrix(X), None, y)

    def fit_rows(
        self,
        X: sp.csr_matrix,
        rows: np.ndarray | None,
        y: np.ndarray,
        buffer: GatherBuffer | None = None,
    ) -> NBLogistic:
        """Fit on ``X[rows]`` (all rows when None); ``y`` holds those rows' labels.

        The ratios come from those rows only. The scaled float64 matrix is gathered straight from
        ``X`` and scaled in place: no float32 row copy and no full-size temporaries. With a
        ``buffer`` its arrays are reused (they are only needed until the fit returns).
        """
        y = np.asarray(y, dtype=np.float64)
        alpha = self.params.get("nb_alpha", 1.0)
        scaled = _float64_rows(X, rows, buffer or GatherBuffer())
        total = np.asarray(scaled.sum(axis=0)).ravel()
        pos = alpha + scaled.T @ y
        neg = alpha + total - (pos - alpha)
        ratio = np.log((pos / pos.sum()) / (neg / neg.sum()))
        # column scaling of the data array keeps CSR order (no re-sort); float64 is what the
        # solvers want, so they do not copy it again
        data, indices = scaled.data, scaled.indices
        for start in range(0, len(data), _CHUNK_NNZ):
            data[start : start + _CHUNK_NNZ] *= ratio[indices[start : start + _CHUNK_NNZ]]
        inner = _Linear(self.params).fit(scaled, y.astype(int))
        self.coef_ = inner.coef_ * ratio  # the same linear function, on the unscaled features
        self.intercept_ = inner.intercept_
        return self


# Chunk sizes keep temporaries small (a few MB), so they reuse freed heap memory instead of
# page-faulting in fresh hundreds of MB per fit.
_CHUNK_ROWS = 2048
_CHUNK_NNZ = 1 << 20


class GatherBuffer:
    """Arrays reused by the fits one worker runs in turn: pages faulted in once, not per fit."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def take(self, name: str, size: int, dtype: Any) -> np.ndarray:
        array = self.arrays.pop(name, None)
        if array is None or array.dtype != dtype or len(array) < size:
            del array  # freed before its replacement is allocated
            array = np.empty(int(size * 1.05), dtype)  # headroom: folds differ a little in size
        self.arrays[name] = array
        return array[:size]


def _float64_rows(X: sp.csr_matrix, rows: np.ndarray | None, buffer: GatherBuffer) -> sp.csr_matrix:
    """``X[rows]`` (all rows when None), float64 data in ``buffer``; all rows share X's indices."""
    if rows is None:
        data = buffer.take("data", X.nnz, np.float64)
        data[:] = X.data[: X.nnz]
        out = sp.csr_matrix((data, X.indices, X.indptr), shape=X.shape)
    else:
        rows = np.asarray(rows)
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(np.diff(X.indptr)[rows], out=indptr[1:])
        indices = buffer.take("indices", indptr[-1], X.indices.dtype)
        data = buffer.take("data", indptr[-1], np.float64)
        for start in range(0, len(rows), _CHUNK_ROWS):
            part = X[rows[start : start + _CHUNK_ROWS]]
            a, b = indptr[start], indptr[min(start + _CHUNK_ROWS, len(rows))]
            indices[a:b], data[a:b] = part.indices, part.data
        out = sp.csr_matrix((data, indices, indptr), shape=(len(rows), X.shape[1]))
    out.has_sorted_indices = X.has_sorted_indices
    return out


def logistic_estimator(params: dict[str, Any], n_rows: int, n_features: int) -> Any:
    """L2 logistic regression: SGD (linear in the data, the default) or liblinear (exact)."""
    if params.get("solver", "sgd") == "sgd":
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import SGDClassifier

        # model.epochs is a deliberate cap, not a failure (a per-call catch_warnings is not thread-safe)
        warnings.filterwarnings("ignore", category=ConvergenceWarning, module=r"sklearn\.linear_model\._stochastic")

        return SGDClassifier(
            loss="log_loss",
            alpha=params.get("alpha", 3e-5),
            max_iter=params.get("epochs", 10),
            # stop once an epoch improves the training loss by < 1e-3 twice: on big data that
            # is after fewer passes, at no measured quality cost on the Jigsaw sample
            tol=1e-3,
            n_iter_no_change=2,
            class_weight=params.get("class_weight"),
            random_state=params.get("random_state", 42),
        )
    from sklearn.linear_model import LogisticRegression

    # liblinear's dual solver is ~8x faster than the primal one when features outnumber rows
    return LogisticRegression(
        C=params.get("C", 4.0),
        class_weight=params.get("class_weight"),
        solver="liblinear",
        dual=n_features > n_rows,
        tol=1e-3,
        max_iter=1000,
        random_state=params.get("random_state", 42),
    )


class _Linear:
    def __init__(self, params: dict[str, Any]):
        self.params = params

    def fit(self, X: sp.csr_matrix, y: np.ndarray) -> _Linear:
        lr = logistic_estimator(self.params, X.shape[0], X.shape[1]).fit(X, y)
        self.coef_, self.intercept_ = lr.coef_.ravel(), float(lr.intercept_[0])
        return self


class _Forest:
    """chi² feature selection (bounded) + random forest; raw score = logit of its probability."""

    def __init__(self, params: dict[str, Any]):
        self.params = params

    def fit(self, X: sp.csr_matrix, y: np.ndarray) -> _Forest:
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.feature_selection import chi2

        k = min(self.params.get("max_selected_features") or X.shape[1], X.shape[1])
        scores, _ = chi2(X, y)
        scores = np.nan_to_num(scores)
        self.selected_ = np.sort(np.argsort(-scores, kind="stable")[:k])
        self.n_features_in_ = X.shape[1]
        self.forest_ = RandomForestClassifier(
            n_estimators=self.params["n_estimators"],
            max_depth=self.params["max_depth"],
            class_weight="balanced_subsample" if self.params["class_weight"] else None,
            n_jobs=self.params["n_jobs"],
            random_state=self.params["random_state"],
            min_samples_leaf=2,
        ).fit(X[:, self.selected_], y)
        return self

    def raw(self, X: sp.csr_matrix) -> np.ndarray:
        proba = self.forest_.predict_proba(X[:, self.selected_])[:, 1]
        return _logit(proba)

    def importance(self) -> np.ndarray:
        out = np.zeros(self.n_features_in_)
        out[self.selected_] = self.forest_.feature_importances_
        return out


def make_estimator(model_type: str, params: dict[str, Any]) -> Any:
    if model_type == "nb_logistic":
        return NBLogistic(params)
    if model_type == "logistic_regression":
        return _Linear(params)
    if model_type == "random_forest":
        return _Forest(params)
    raise ConfigError(f"unknown model.type {model_type!r}: use one of {', '.join(MODEL_TYPES)}")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free


def fallback_reason(y: np.ndarray, folds: int) -> str | None:
    """Why a label cannot be cross-validated with ``folds`` folds (None when it can)."""
    positives, n = int(np.sum(y)), len(y)
    if positives == 0 or positives == n:
        return f"only one class ({positives} positives of {n}): constant prior"
    if min(positives, n - positives) < folds:
        return f"{min(positives, n - positives)} rows in the minority class < {folds} folds: CV skipped"
    return None


# --- the model ----------------------------------------------------------------------------------
@dataclass
class SocialScoreModel:
    """One estimator per label; ``predict_proba`` columns follow ``labels``."""

    model_type: str
    labels: list[str]
    primary_label: str
    params: dict[str, Any]
    threshold: float = 0.5
    fallbacks: dict[str, str] = field(default_factory=dict)
    calibration: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.model_type not in MODEL_TYPES:
            raise ConfigError(f"unknown model.type {self.model_type!r}: use one of {', '.join(MODEL_TYPES)}")
        if self.primary_label not in self.labels:
            raise ConfigError(f"primary label {self.primary_label!r} is not one of the labels {self.labels}")

    # --- fitting --------------------------------------------------------------------------------
    def fit(self, X: sp.csr_matrix, Y: np.ndarray, progress: Progress = no_progress) -> SocialScoreModel:
        """Fit one estimator per label (in parallel); Y has one 0/1 column per label."""
        X = canonical(X)
        Y = np.asarray(Y).reshape(X.shape[0], len(self.labels))
        self.n_features_ = X.shape[1]
        self.priors_ = Y.mean(axis=0) if len(Y) else np.zeros(len(self.labels))
        todo = [j for j in range(len(self.labels)) if not _constant(Y[:, j])]
        for j in set(range(len(self.labels))) - set(todo):
            self.fallbacks.setdefault(self.labels[j], fallback_reason(Y[:, j], 2) or "constant prior")
        with progress(f"final fit ({len(todo)} labels)", X.shape[0] * len(todo)) as advance:
            fitted = run_parallel(
                [(make_estimator(self.model_type, self.params), X, None, Y[:, j]) for j in todo],
                self.params.get("n_jobs", -1),
                self.model_type,
                advance,
            )
        self.estimators_: dict[int, Any] = dict(zip(todo, fitted, strict=True))
        self._pack()
        return self

    def _pack(self) -> None:
        """Linear labels → one (n_features, n_labels) matrix; constants → intercept only."""
        n_labels = len(self.labels)
        self.coef_ = np.zeros((self.n_features_, n_labels), dtype=np.float32)  # halves the pickle
        self.intercept_ = np.zeros(n_labels)
        self.trees_: dict[int, Any] = {}
        for j in range(n_labels):
            est = self.estimators_.get(j)
            if est is None:
                self.intercept_[j] = _logit(np.array([self.priors_[j]]))[0]
            elif hasattr(est, "coef_"):
                self.coef_[:, j], self.intercept_[j] = est.coef_, est.intercept_
            else:
                self.trees_[j] = est
        self.estimators_ = {}  # packed: keep the pickle small

    def calibrate(self, raw_oof: np.ndarray, Y: np.ndarray, sample_weight: np.ndarray | None = None) -> SocialScoreModel:
        """Platt-scale each label from out-of-fold raw scores (rows with NaN scores are ignored);
        ``sample_weight``: row weights (modeling/training/prior.py: a declared deployment base rate)."""
        from sklearn.linear_model import LogisticRegression

        self.calibration = {}
        for j, label in enumerate(self.labels):
            scores, y = raw_oof[:, j], np.asarray(Y)[:, j]
            keep = ~np.isnan(scores)
            if label in self.fallbacks or keep.sum() < 2 or _constant(y[keep]):
                continue
            weight = None if sample_weight is None else np.asarray(sample_weight)[keep]
            platt = LogisticRegression(C=1e4).fit(scores[keep, None], y[keep], sample_weight=weight)
            self.calibration[label] = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
        return self

    # --- scoring --------------------------------------------------------------------------------
    def raw_scores(self, X: sp.spmatrix) -> np.ndarray:
        """Uncalibrated scores (log-odds), shape (n, len(labels))."""
        if type(X) is not sp.csr_matrix:  # a featurizer's own CSR is used as it is (no second build)
            X = sp.csr_matrix(X)
        if X.shape[1] != self.n_features_:
            raise ValueError(f"X has {X.shape[1]} features; the model was fitted on {self.n_features_}")
        raw = np.asarray(X @ self.coef_) + self.intercept_
        for j, est in self.trees_.items():
            raw[:, j] = est.raw(X)
        return raw

    def predict_proba(self, X: sp.spmatrix) -> np.ndarray:
        """Calibrated probabilities, shape (n, len(labels)), columns in ``labels`` order."""
        return self.calibrated(self.raw_scores(X))

    def calibrated(self, raw: np.ndarray) -> np.ndarray:
        pairs = [self.calibration.get(label, (1.0, 0.0)) for label in self.labels]
        slope, offset = np.array(pairs, dtype=float).reshape(-1, 2).T
        return _sigmoid(slope * np.asarray(raw, dtype=float) + offset)  # elementwise: the bits label by label gave

    def predict(self, X: sp.spmatrix) -> np.ndarray:
        """is_toxic for the primary label at the saved threshold."""
        return self.predict_proba(X)[:, self.labels.index(self.primary_label)] >= self.threshold

    def feature_importance(self, label: str) -> np.ndarray:
        """Signed coefficients (linear types) or impurity importances (forest), one per feature."""
        j = self.labels.index(label)
        if j in self.trees_:
            return self.trees_[j].importance()
        return self.coef_[:, j].copy()


def canonical(X: sp.spmatrix) -> sp.csr_matrix:
    """CSR with sorted, de-duplicated indices, so that threads sharing it never mutate it."""
    X = sp.csr_matrix(X)
    X.sum_duplicates()
    X.sort_indices()
    return X


def run_parallel(
    tasks: list[tuple[Any, sp.csr_matrix, np.ndarray | None, np.ndarray]], n_jobs: int, model_type: str,
    advance: Advance | None = None,
) -> list[Any]:
    """Fit (estimator, X, rows, y) tasks on ``X[rows]`` (all rows when None); ``advance(rows)`` after each.

    Linear fits run in threads (SGD and liblinear release the GIL); the row subset is taken inside
    the task, so only ``n_jobs`` copies of a fold's matrix exist at once.
    """

    import queue

    buffers: queue.SimpleQueue[GatherBuffer] = queue.SimpleQueue()  # at most one per running fit

    def fit(est: Any, X: sp.csr_matrix, rows: np.ndarray | None, y: np.ndarray) -> Any:
        if not hasattr(est, "fit_rows"):
            return est.fit(X if rows is None else X[rows], y)
        try:
            buffer = buffers.get_nowait()
        except queue.Empty:
            buffer = GatherBuffer()
        try:
            return est.fit_rows(X, rows, y, buffer)  # gathers the rows itself, in the form it needs
        finally:
            buffers.put(buffer)

    if model_type == "random_forest" or len(tasks) <= 1:
        fitted: Any = (fit(*task) for task in tasks)  # the forest parallelises its trees itself
    else:
        from joblib import Parallel, delayed

        fitted = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(delayed(fit)(*t) for t in tasks)
    done = []
    for task, estimator in zip(tasks, fitted, strict=True):  # in task order, as each finishes
        done.append(estimator)
        if advance is not None:
            advance(task[1].shape[0] if task[2] is None else len(task[2]))
    return done
