"""Mitigations: augmentation and repeated negatives touch the train split only; column weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from socialscore.config import load_settings
from socialscore.modeling.behaviour import mitigation
from socialscore.modeling.behaviour.probes import augmentation_sentences, evaluation_probes
from socialscore.modeling.featurizers.engineered import LEXICON
from socialscore.modeling.featurizers.features import FeatureBuilder


def _comments() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["a", "b", "c", "d"],
        "text": ["you idiot", "nice edit", "thanks", "moron"],
        "split": ["train", "train", "test", "test"],
        "label_toxic": np.array([1, 0, 0, 1], dtype=np.int8),
        "label_insult": np.array([1, 0, 0, 0], dtype=np.int8),
    })


def test_augmentation_rows_join_the_train_split_only_with_every_label_zero():
    comments = _comments()
    out = mitigation.augment_train_split(comments, repeat=2)
    added = out.iloc[len(comments):]
    assert len(added) == 2 * len(augmentation_sentences())
    assert set(added["split"]) == {"train"} and added["id"].is_unique
    assert (added[["label_toxic", "label_insult"]] == 0).all().all()
    assert added["label_toxic"].dtype == comments["label_toxic"].dtype
    pd.testing.assert_frame_equal(out[out["split"] == "test"].reset_index(drop=True),
                                  comments[comments["split"] == "test"].reset_index(drop=True))
    assert not set(added["text"]) & {p.text for p in evaluation_probes()}  # never the evaluation sentences
    assert mitigation.augment_train_split(comments, 0) is comments


def test_repeat_negatives_repeats_non_toxic_train_rows():
    out = mitigation.repeat_negatives(_comments(), 3)
    assert sorted(out["id"]) == ["a", "b", "b~1", "b~2", "c", "d"]
    assert out["id"].is_unique


def test_mitigate_train_split_follows_the_settings():
    settings = load_settings("dev", overrides=[{"features": {"identity_augmentation": 1, "negative_repeats": 2}}])
    out = mitigation.mitigate_train_split(_comments(), settings.features)
    n_aug = len(augmentation_sentences())
    # b and every augmentation row (all negative) are repeated once
    assert len(out) == 4 + 2 * n_aug + 1
    assert (out["split"] == "test").sum() == 2


def test_identity_and_second_person_columns():
    names = ["word__gay", "word__my gay", "word__african american", "word__african", "word__you are",
             "word__are a", "word__you", "char__ gay", "char__ga", "char__musl", "eng__log_chars"]
    assert list(mitigation.identity_columns(names)) == [0, 1, 2, 3, 7, 9]
    assert list(mitigation.second_person_columns(names)) == [4, 5]
    weights = mitigation.column_weights(names, identity_weight=0.5, second_person_weight=0.0)
    assert weights[0] == 0.5 and weights[4] == 0.0 and weights[6] == 1.0
    assert mitigation.column_weights(names) is None
    X = sp.csr_matrix(np.ones((2, len(names)), dtype=np.float32))
    out = mitigation.apply_column_weights(X, weights)
    assert out[0, 0] == 0.5 and out[0, 4] == 0 and out.nnz == 2 * (len(names) - 2)
    assert X[0, 0] == 1.0  # the input is left alone


def test_lexicon_without_identity_terms():
    lexicon = mitigation.without_identity_terms(LEXICON)
    assert "gay" in LEXICON and "gay" not in lexicon and "idiot" in lexicon
    on = FeatureBuilder.from_settings(load_settings("dev", overrides=[{"features": {"identity_terms_in_lexicon": False}}]))
    off = FeatureBuilder.from_settings(load_settings("dev", overrides=[{"features": {"identity_terms_in_lexicon": True}}]))
    assert "gay" not in on.lexicon and off.lexicon == LEXICON
    texts = ["i love my gay friends", "you idiot", "a plain sentence here"]
    on.fit(texts), off.fit(texts)
    hits = list(on.engineered_names()).index("lexicon_hits")
    assert on._engineered(texts[:1], [on.preprocessor.tokens(texts[0])])[0, hits] == 0
    assert off._engineered(texts[:1], [off.preprocessor.tokens(texts[0])])[0, hits] > 0
