"""numba's compiled kernels shipped with the install, so a fresh process (a new pod) compiles nothing.

numba caches a kernel's machine code on disk, keyed by the source file's hash, the signature, the
numba version and the CPU (``NUMBA_CPU_NAME=generic`` makes that key the same on every x86-64 host).
It only uses a cache directory it can write to, so a read-only image cannot be read in place:

- at build time ``socialscore warm-cache DIR`` compiles every kernel the scoring path calls into DIR;
- at start-up :func:`install_shipped_cache` copies DIR (``SOCIALSCORE_NUMBA_SHIPPED_CACHE``) into the
  writable ``NUMBA_CACHE_DIR`` (a few MB: milliseconds) before any kernel runs.

DIR also holds the language detector's model unpacked (``DIR/language-model``, 68 MB, see
modeling/behaviour/language_cache.py), which :func:`install_language_model` maps read-only in place
(it is not copied).

Whatever is missing, unwritable or stale (another numba, another source), numba compiles it, as it
does without a cache: the shipped files only ever save work.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

SHIPPED_ENV = "SOCIALSCORE_NUMBA_SHIPPED_CACHE"
CACHE_ENV = "NUMBA_CACHE_DIR"
LANGUAGE_DIR = "language-model"
KERNEL_MODULES = (
    "socialscore.text.token_numba",
    "socialscore.modeling.featurizers.hash_numba",
    "socialscore.modeling.training.sgd_kernel",
    "socialscore.modeling.behaviour.language_numba",
)


def install_shipped_cache(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """Copy the shipped cache into ``NUMBA_CACHE_DIR`` (files it already holds are kept); say what happened.

    Never raises: a problem means the kernels compile on first use, which the message says.
    """
    env = os.environ if environ is None else environ
    shipped = env.get(SHIPPED_ENV, "").strip()
    if not shipped:
        return "no shipped numba cache (SOCIALSCORE_NUMBA_SHIPPED_CACHE unset)"
    source, target = Path(shipped), env.get(CACHE_ENV, "").strip()
    if not target:
        return f"shipped numba cache {source} unused: NUMBA_CACHE_DIR is unset, so numba caches next to the modules"
    if not source.is_dir():
        return f"shipped numba cache {source} is missing: the kernels compile on first use"
    try:
        copied = _copy_missing(source, Path(target))
    except OSError as exc:
        return f"cannot copy the shipped numba cache into {target} ({exc.strerror or exc}): the kernels compile on first use"
    return f"numba cache: {copied} file(s) copied from {source} into {target}"


def install_language_model(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """Map the shipped unpacked language model (none shipped: it is decompressed on first use); say what happened."""
    shipped = (os.environ if environ is None else environ).get(SHIPPED_ENV, "").strip()
    if not shipped:
        return "no shipped language model (SOCIALSCORE_NUMBA_SHIPPED_CACHE unset): decompressing it"
    from socialscore.modeling.behaviour.language import load_saved_arrays

    return load_saved_arrays(Path(shipped) / LANGUAGE_DIR)


def _copy_missing(source: Path, target: Path) -> int:
    copied = 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.relative_to(source).parts[0] == LANGUAGE_DIR:
            continue
        destination = target / path.relative_to(source)
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        # another worker may copy the same file now: each writes a private temporary, then renames
        fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".copy-")
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, destination)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        copied += 1
    return copied


def kernel_stats() -> dict[str, int]:
    """Cache hits and misses (compilations) of every kernel loaded so far in this process."""
    hits = misses = 0
    for name in KERNEL_MODULES:
        module = sys.modules.get(name)
        for value in vars(module).values() if module else ():
            stats = getattr(value, "stats", None)
            if stats is not None and hasattr(stats, "cache_hits"):
                hits += sum(stats.cache_hits.values())
                misses += sum(stats.cache_misses.values())
    return {"hits": hits, "misses": misses}


WARM_TEXTS = [
    "thank you for the edit, great work",
    "you are an idiot and a m0r0n!!! shut uppppp",
    "write to jane.doe@example.com or see example.org/page, call +44 20 7946 0958",
    "[URL] 1d10t l00ser @handle 192.168.0.1",
    "Ceci est un commentaire en français, merci beaucoup",
    "Это комментарий на русском языке",
]


def warm(directory: Path) -> dict[str, int]:
    """Compile the kernels into ``directory`` (becomes ``NUMBA_CACHE_DIR``) and save the language model
    unpacked beside them; return the kernels' cache stats.

    Runs what serving runs (a hashing featurizer fitted on a few texts, then a whole scoring call
    through a :class:`~socialscore.modeling.scorer.pipeline.ScoringPipeline`); the trainer's SGD kernels
    still compile on a pipeline run's first use. Must run before numba is imported in this process (numba reads the variable once).
    """
    if "numba" in sys.modules and os.environ.get(CACHE_ENV) != str(directory):
        raise RuntimeError("warm() must run before numba is imported (NUMBA_CACHE_DIR is read once)")
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[CACHE_ENV] = str(directory)
    _warm_scoring()
    from socialscore.modeling.behaviour.language import save_arrays

    save_arrays(directory / LANGUAGE_DIR)
    return kernel_stats()


def _warm_scoring() -> None:
    from socialscore.registry.serving import export_pipeline, load_served

    pipeline = warm_pipeline()
    pipeline.score(WARM_TEXTS)
    # and as served: exported and loaded back (loaded arrays are typed differently, e.g. read-only)
    with tempfile.TemporaryDirectory() as scratch:
        export_pipeline(pipeline, Path(scratch), {"model_version": "warm-1"}, compat=False)
        served = load_served(Path(scratch))
    served.score(WARM_TEXTS)
    served.score(WARM_TEXTS[:1])


def warm_pipeline() -> Any:
    """A scoring pipeline shaped like the served default (hashing featurizer, nb_logistic weights of
    zero, a language profile), fitted on :data:`WARM_TEXTS`: it calls every kernel a request calls."""
    import numpy as np

    from socialscore.config import load_settings
    from socialscore.modeling.featurizers.hashing import HashingFeaturizer
    from socialscore.modeling.behaviour.language import LanguageProfile
    from socialscore.modeling.scorer.pipeline import ScoringPipeline, TextRules
    from socialscore.modeling.scorer.serialize import model_from_state

    featurizer = HashingFeaturizer.from_settings(load_settings("dev"))
    featurizer.fit_transform(WARM_TEXTS * 2)
    meta = {"model_type": "nb_logistic", "labels": ["toxic"], "primary_label": "toxic", "params": {},
            "threshold": 0.5, "fallbacks": {}, "calibration": {"toxic": (1.0, 0.0)},
            "n_features": featurizer.n_features_}
    arrays = {"coef": np.zeros((featurizer.n_features_, 1), np.float32), "intercept": np.zeros(1),
              "priors": np.full(1, 0.5)}
    languages = LanguageProfile.from_texts(WARM_TEXTS).to_state()
    return ScoringPipeline(TextRules(), featurizer, model_from_state(meta, arrays), {"toxic": 0.5},
                           card={"model_version": "warm-1"}, languages=languages)
