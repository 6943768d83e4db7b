"""Language detection cost and verdicts: microseconds per text, and the training profile of each dataset.

    uv run python benchmarks/bench_language.py

Times ``socialscore.modeling.behaviour.language.detect_languages`` on the held-out texts of the shared Jigsaw
sample (one text per call, as the API would, and one batch call), then prints the language profile
of each shared dataset's texts and how many of its texts would be marked unreliable. Wall times on a
shared machine: the load average is printed with them.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quality import DATASETS

from socialscore.modeling.behaviour.language import LanguageProfile, detect_languages, reliable

TEXT_COLUMNS = ("anonymized_comment", "comment_text", "tweet", "text")


def texts_of(path: Path, limit: int = 5000) -> list[str]:
    frame = pd.read_csv(path, keep_default_na=False, nrows=limit)
    column = next(c for c in TEXT_COLUMNS if c in frame.columns)
    return frame[column].astype(str).tolist()


def main() -> None:
    sample = texts_of(DATASETS["jigsaw-sample"], 2000)
    detect_languages(sample[:10])  # model load, not timed
    per_call = []
    for text in sample:
        t0 = time.perf_counter()
        detect_languages([text])
        per_call.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    detect_languages(sample)
    batch = time.perf_counter() - t0
    lengths = [len(t) for t in sample]
    print(f"one text per call: mean {1e6 * statistics.fmean(per_call):.0f} µs, median {1e6 * statistics.median(per_call):.0f} µs, "
          f"p90 {1e6 * float(np.percentile(per_call, 90)):.0f} µs (texts: median {statistics.median(lengths):.0f} chars)")
    print(f"batch of {len(sample)}: {1e6 * batch / len(sample):.0f} µs per text")
    for name, path in DATASETS.items():
        if not path.exists():
            continue
        texts = texts_of(path)
        profile = LanguageProfile.from_texts(texts)
        flags = reliable(detect_languages(texts), profile)
        top = dict(list(profile.detected.items())[:6])
        print(f"{name}: languages {profile.languages}, scripts {profile.scripts}; "
              f"unreliable {int((~flags).sum())} of {len(texts)}; most detected {top}")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
