"""Write a CSV of N labelled comments for scale tests, recombined from real comments.

    uv run python benchmarks/scale_data.py --rows 160000 --out /tmp/scale_160k.csv
    uv run python benchmarks/scale_data.py --rows 1000000 --out /tmp/scale_1m.csv --seed 7

The pool is the shared Jigsaw sample (``data/jigsaw/cleaned_training_sample.csv`` under ``$SOCIALSCORE_SHARED_DIR``, default ``../shared``, or
``--pool``); without it, ``socialscore.storage.synthetic.generate_example`` is the pool. The first rows are the
pool itself in a shuffled order (real data as far as it goes); every further row is a pool comment
with its labels, recombined and lightly perturbed so it stays realistic in length and vocabulary but
does not collapse in the transform step's de-duplication (same normalised text):

* toxic comments keep every sentence (the toxic part stays, so the labels stay true), clean ones may
  lose one; both may gain 1-2 sentences taken from clean comments (neutral context);
* 1-3 word edits: adjacent-letter swap, doubled letter, capitalised word, dropped short word;
* a text already written is edited again until it is new.

Deterministic for a given seed, pool and N. Prints counts and the length distribution, never text.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _shared import JIGSAW_SAMPLE

from socialscore.storage.csvformat import JIGSAW_LABELS
from socialscore.storage.synthetic import generate_example

SHARED_POOL = JIGSAW_SAMPLE
TEXT_CANDIDATES = ("comment_text", "anonymized_comment", "text")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_SPACES = re.compile(r"\s+")


def load_pool(path: Path | None, seed: int) -> tuple[pd.DataFrame, str]:
    """The comments to recombine (``id``, ``comment_text``, 6 labels) and where they came from."""
    if path is not None and path.exists():
        frame = pd.read_csv(path, dtype={"id": str}, keep_default_na=False)
        text_col = next((c for c in TEXT_CANDIDATES if c in frame.columns), None)
        if text_col is None or not set(JIGSAW_LABELS) <= set(frame.columns):
            sys.exit(f"{path}: needs a text column ({', '.join(TEXT_CANDIDATES)}) and the 6 Jigsaw labels")
        frame = frame.rename(columns={text_col: "comment_text"})
        origin = str(path)
    else:
        frame = generate_example(20_000, seed)
        origin = "socialscore.storage.synthetic.generate_example(20000)"
    frame = frame[["id", "comment_text", *JIGSAW_LABELS]].copy()
    frame["comment_text"] = frame["comment_text"].astype(str)
    frame = frame[frame["comment_text"].str.strip() != ""]
    frame = frame.drop_duplicates("comment_text").reset_index(drop=True)
    for label in JIGSAW_LABELS:
        frame[label] = pd.to_numeric(frame[label], errors="coerce").fillna(0).astype(int).clip(0, 1)
    return frame, origin


def _edit_word(rng: random.Random, words: list[str], allow_drop: bool) -> None:
    """One light edit of one word, in place."""
    if not words:
        words.append(rng.choice(("ok", "hm", "well")))
        return
    i = rng.randrange(len(words))
    word = words[i]
    kind = rng.random()
    if allow_drop and len(words) > 3 and len(word) <= 3 and kind < 0.25:
        del words[i]
    elif len(word) >= 4 and kind < 0.55:
        j = rng.randrange(1, len(word) - 2)  # swap two inner letters: a typo
        words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    elif word[:1].isalpha() and kind < 0.8:
        j = rng.randrange(len(word))
        words[i] = word[: j + 1] + word[j] + word[j + 1 :]  # a doubled letter
    else:
        words[i] = word.upper() if word.istitle() else word.capitalize()


def recombine(
    rng: random.Random, sentences: list[str], toxic: bool, neutral: list[list[str]]
) -> str:
    """A new comment from ``sentences``: maybe one clean sentence fewer, maybe neutral context more."""
    parts = list(sentences)
    if not toxic and len(parts) > 1 and rng.random() < 0.3:
        del parts[rng.randrange(len(parts))]
    if rng.random() < 0.25:
        for _ in range(rng.choice((1, 1, 1, 2))):
            donor = neutral[rng.randrange(len(neutral))]
            parts.insert(rng.randrange(len(parts) + 1), donor[rng.randrange(len(donor))])
    words = " ".join(parts).split(" ")
    for _ in range(rng.choice((1, 1, 2, 3))):
        _edit_word(rng, words, allow_drop=not toxic)
    return " ".join(words)


def generate(n_rows: int, pool: pd.DataFrame, seed: int) -> pd.DataFrame:
    """``n_rows`` comments in the Jigsaw format (``id``, ``comment_text``, 6 labels)."""
    rng = random.Random(seed)
    order = list(range(len(pool)))
    rng.shuffle(order)
    texts = pool["comment_text"].tolist()
    ids = pool["id"].astype(str).tolist()
    labels = pool[list(JIGSAW_LABELS)].to_numpy(dtype=np.int8)
    toxic = labels.max(axis=1) > 0
    sentences = [_SENTENCE.split(t.strip()) or [t] for t in texts]
    neutral = [sentences[i] for i in range(len(texts)) if not toxic[i]]

    out_ids: list[str] = []
    out_texts: list[str] = []
    source = np.empty(n_rows, dtype=np.int64)
    seen: set[str] = set()
    for i in range(n_rows):
        if i < len(order):  # the real comments first, unchanged
            k = order[i]
            text, row_id = texts[k], ids[k]
        else:
            k = rng.randrange(len(texts))
            text = recombine(rng, sentences[k], bool(toxic[k]), neutral)
            row_id = f"scale{seed}-{i:09d}"
            tries = 0
            while _SPACES.sub(" ", text).strip() in seen:
                tries += 1
                if tries % 4 == 0:  # short texts an edit cannot change: add neutral context
                    donor = neutral[rng.randrange(len(neutral))]
                    text = f"{text} {donor[rng.randrange(len(donor))]}"
                else:
                    words = text.split(" ")
                    _edit_word(rng, words, allow_drop=False)
                    text = " ".join(words)
        seen.add(_SPACES.sub(" ", text).strip())
        source[i] = k
        out_ids.append(row_id)
        out_texts.append(text)
    frame = pd.DataFrame({"id": out_ids})
    for j, label in enumerate(JIGSAW_LABELS):
        frame[label] = labels[source, j]
    frame["comment_text"] = out_texts
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, required=True, help="how many comments to write")
    parser.add_argument("--out", type=Path, required=True, help="the CSV to write")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pool", type=Path, default=SHARED_POOL,
                        help="CSV of labelled comments to recombine (default: the shared Jigsaw sample)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be positive")
    started = time.perf_counter()
    pool, origin = load_pool(args.pool, args.seed)
    frame = generate(args.rows, pool, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(args.out)
    lengths = frame["comment_text"].str.len()
    pool_lengths = pool["comment_text"].str.len()
    unique = frame["comment_text"].map(lambda t: _SPACES.sub(" ", t).strip()).nunique()
    print(f"wrote {len(frame):,} rows ({unique:,} distinct texts) to {args.out} "
          f"in {time.perf_counter() - started:.1f}s; pool {len(pool):,} rows from {origin}")
    print(f"length chars: median {lengths.median():.0f} (pool {pool_lengths.median():.0f}), "
          f"mean {lengths.mean():.0f} (pool {pool_lengths.mean():.0f}), "
          f"p95 {lengths.quantile(0.95):.0f} (pool {pool_lengths.quantile(0.95):.0f})")
    rates = ", ".join(f"{label} {frame[label].mean():.3f}" for label in JIGSAW_LABELS)
    print(f"label rates: {rates}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
