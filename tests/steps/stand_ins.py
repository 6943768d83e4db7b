"""Small stand-ins with the interfaces of FeatureBuilder and SocialScoreModel, for step tests
that need a fitted vectoriser and model but not the real (slower) ones."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


class TinyVectorizer:
    def __init__(self) -> None:
        self.tfidf = TfidfVectorizer(token_pattern=r"\S+")

    def fit(self, texts: list[str]) -> TinyVectorizer:
        self.tfidf.fit(texts)
        return self

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        return self.tfidf.transform(texts).tocsr()

    def get_feature_names_out(self) -> np.ndarray:
        return self.tfidf.get_feature_names_out()


class TinyModel:
    model_type = "logistic_regression"

    def __init__(self, labels: list[str], threshold: float = 0.5) -> None:
        self.labels, self.primary_label, self.threshold = labels, labels[0], threshold
        self.fitted: list[LogisticRegression | None] = []

    def fit(self, X, Y: np.ndarray) -> TinyModel:
        self.fitted = [
            LogisticRegression().fit(X, Y[:, j]) if 0 < Y[:, j].sum() < len(Y) else None
            for j in range(Y.shape[1])
        ]
        return self

    def predict_proba(self, X) -> np.ndarray:
        return np.column_stack(
            [
                m.predict_proba(X)[:, 1] if m is not None else np.zeros(X.shape[0])
                for m in self.fitted
            ]
        )

    def feature_importance(self, label: str) -> np.ndarray:
        return self.fitted[self.labels.index(label)].coef_.ravel()
