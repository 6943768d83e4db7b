"""A small synthetic labelled corpus for the features and train step tests (no shared data)."""

from __future__ import annotations

import numpy as np
import pandas as pd

INSULTS = ["idiot", "moron", "stupid", "loser", "pathetic", "dumb", "clown", "worthless"]
THREATS = ["i will hurt you", "watch your back", "you will regret this"]
FRIENDLY = ["thanks", "great", "article", "agree", "source", "helpful", "edit", "nice", "page", "cheers"]
FILLER = ["the", "a", "this", "is", "you", "are", "really", "so", "about", "and", "see", "[URL]"]


def make_comments(n: int = 300, seed: int = 0, threats: int = 6, test_share: float = 0.25) -> pd.DataFrame:
    """Comments with label_toxic, label_insult and a rare label_threat, split into train/test."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        toxic = rng.random() < 0.4
        words = list(rng.choice(FILLER, size=rng.integers(3, 9)))
        words += list(rng.choice(INSULTS if toxic else FRIENDLY, size=rng.integers(1, 4)))
        threat = i < threats
        if threat:
            words.append(str(rng.choice(THREATS)))
            toxic = True
        rng.shuffle(words)
        text = " ".join(words)
        if toxic and rng.random() < 0.3:
            text = text.upper() + "!!!"
        rows.append(
            {
                "id": f"c{i:05d}",
                "text": text,
                "label_toxic": int(toxic),
                "label_insult": int(toxic and not threat),
                "label_threat": int(threat),
            }
        )
    frame = pd.DataFrame(rows)
    order = rng.permutation(n)
    frame["split"] = np.where(order < int(n * test_share), "test", "train")
    frame.loc[frame.index < threats, "split"] = "train"  # keep the rare label in training
    frame["source"] = "synthetic"
    return frame
