"""Language detection: the compiled detector beside py3langid (the reference), cost and agreement.

    uv run python benchmarks/bench_language.py

On every text of the four shared CSVs (../shared/data: both Jigsaw files, the raw Jigsaw sample,
Davidson), as the scoring pipeline sees them (text rules applied): how often the compiled detector
(``detect_languages``) gives py3langid's tag (``detect_languages(..., compiled=False)``) and the same
``reliable`` flag under that dataset's own profile; CPU µs per text of each, in batches of 1,000 and
one text per call (the first 2,000 Jigsaw-sample texts), A and B alternated. Then each dataset's
profile and its unreliable count.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quality import DATASETS

from socialscore.modeling.behaviour.language import LanguageProfile, detect_languages, reliable

from socialscore.modeling.scorer.pipeline import TextRules

TEXT_COLUMNS = ("anonymized_comment", "comment_text", "tweet", "text")
ALL_CSVS = {**DATASETS, "jigsaw-raw-300": DATASETS["jigsaw-sample"].parent / "train_raw_sample_300.csv"}
BATCH = 1000


def texts_of(path: Path, limit: int | None = None) -> list[str]:
    frame = pd.read_csv(path, keep_default_na=False, nrows=limit)
    column = next(c for c in TEXT_COLUMNS if c in frame.columns)
    return frame[column].astype(str).tolist()


def cpu_us(function, batches: list[list[str]]) -> float:
    started = time.process_time()
    for batch in batches:
        function(batch)
    return 1e6 * (time.process_time() - started) / sum(map(len, batches))


def main() -> None:
    rules = TextRules()
    detect_languages(["warm up"])
    detect_languages(["warm up"], compiled=False)
    total = agree = agree_reliable = 0
    for name, path in ALL_CSVS.items():
        if not path.exists():
            print(f"{name}: {path} missing, skipped")
            continue
        texts = rules.apply(texts_of(path))
        batches = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
        fast_us = cpu_us(detect_languages, batches)
        ref_us = cpu_us(lambda b: detect_languages(b, compiled=False), batches)
        fast = detect_languages(texts)
        reference = detect_languages(texts, compiled=False)
        profile = LanguageProfile.from_texts(texts)
        same = sum(a == b for a, b in zip(fast, reference, strict=True))
        same_reliable = int((reliable(fast, profile) == reliable(reference, profile)).sum())
        total, agree, agree_reliable = total + len(texts), agree + same, agree_reliable + same_reliable
        flags = reliable(fast, profile)
        top = dict(list(profile.detected.items())[:6])
        print(f"{name}: {len(texts)} texts; same tag {same} ({100 * same / len(texts):.2f}%), same reliable "
              f"{same_reliable}; CPU µs/text in batches of {BATCH}: compiled {fast_us:.1f}, py3langid {ref_us:.1f}")
        print(f"  profile: languages {profile.languages}, scripts {profile.scripts}; "
              f"unreliable {int((~flags).sum())}; most detected {top}")
    print(f"all: {total} texts, same tag {agree} ({100 * agree / max(total, 1):.2f}%), "
          f"same reliable {agree_reliable} ({100 * agree_reliable / max(total, 1):.2f}%)")
    sample = rules.apply(texts_of(DATASETS["jigsaw-sample"], 2000))
    single = [[t] for t in sample]
    fast_single, ref_single = [], []
    for _ in range(3):
        fast_single.append(cpu_us(detect_languages, single))
        ref_single.append(cpu_us(lambda b: detect_languages(b, compiled=False), single))
    print(f"one text per call ({len(sample)} texts, median of 3 alternated rounds): compiled "
          f"{statistics.median(fast_single):.1f} µs CPU, py3langid {statistics.median(ref_single):.1f} µs CPU; "
          f"texts: median {statistics.median(map(len, sample)):.0f} chars")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
