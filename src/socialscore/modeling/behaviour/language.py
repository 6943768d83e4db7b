"""Language awareness: which language a text is in, and whether the model was trained on it.

Detection uses py3langid (langid.py's maintained fork; its model ships inside the wheel and it never
downloads anything). Short or ambiguous texts are where it guesses: when its normalised confidence
is below ``MIN_CONFIDENCE`` the text's language is undetermined and only its writing system is
kept, as the BCP 47 tag ``und-<Script>`` (``"Ты идиот"`` → ``und-Cyrl``). A text with no letters at
all (emoji, numbers) is ``und``.

Detection runs py3langid's model in a compiled kernel (modeling/behaviour/language_numba.py) over a whole batch;
``compiled=False`` (or numba switched off or missing) runs py3langid itself, the reference the kernel
is tested against.

A text is *reliable* when its language is one the training data holds (``LanguageProfile``); an
undetermined one when its script is one the training data is written in; a letterless one always
(there is no language to be wrong about).
"""

from __future__ import annotations

import random
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MIN_CONFIDENCE = 0.5  # py3langid's normalised probability; below it only the script is trusted
MAX_CHARS = 300  # detection reads a text's first 300 characters: enough for a language, cost bounded
MIN_SHARE = 0.01  # a language or script is a training language when it holds >= 1% of the texts
PROFILE_SAMPLE = 20_000  # texts detected to build a profile (evenly sampled, seeded)
UNDETERMINED = "und"
_SCRIPTS = {  # first word of a letter's Unicode name → ISO 15924 code
    "LATIN": "Latn", "CYRILLIC": "Cyrl", "GREEK": "Grek", "ARABIC": "Arab", "HEBREW": "Hebr",
    "HIRAGANA": "Jpan", "KATAKANA": "Jpan", "CJK": "Hani", "HANGUL": "Hang", "DEVANAGARI": "Deva",
    "BENGALI": "Beng", "TAMIL": "Taml", "THAI": "Thai", "GEORGIAN": "Geor", "ARMENIAN": "Armn",
    "ETHIOPIC": "Ethi", "GUJARATI": "Gujr", "GURMUKHI": "Guru", "KANNADA": "Knda", "MALAYALAM": "Mlym",
    "TELUGU": "Telu", "SINHALA": "Sinh", "KHMER": "Khmr", "LAO": "Laoo", "MYANMAR": "Mymr", "TIBETAN": "Tibt",
}
_lock = threading.Lock()
_model_data: dict[str, np.ndarray] | None = None
_identifier: Any = None
_arrays: KernelArrays | None | bool = False  # False: not built yet; None: the model cannot be compiled
_user_cache = True  # serving turns it off: a pod maps the image's copy, and its home may be a small volume


def _get_model_data() -> dict[str, np.ndarray]:
    """py3langid's shipped model arrays, unpacked in memory (once per process).

    py3langid's own loader unpacks the 68 MB model into a temporary file; in the image /tmp is a small
    emptyDir shared by the workers (the root filesystem is read-only), where two workers starting
    together ran out of space. The same arrays, read from memory instead.
    """
    global _model_data
    with _lock:
        if _model_data is None:
            import io
            import lzma

            from py3langid.langid import MODEL_DIR, MODEL_FILE

            path = Path(MODEL_FILE) if Path(MODEL_FILE).is_absolute() else Path(MODEL_DIR) / MODEL_FILE
            with lzma.open(path) as packed:
                buffer = io.BytesIO(packed.read())
            with np.load(buffer, allow_pickle=False) as data:
                _model_data = {name: np.asarray(data[name]) for name in data.files}
    return _model_data


def _get_identifier() -> Any:
    """py3langid's ``LanguageIdentifier`` on the shipped model: the reference (Python) path, built on first use."""
    global _identifier
    data = _get_model_data()
    with _lock:
        if _identifier is None:
            from py3langid.langid import LanguageIdentifier
            from py3langid.modelio import _to_array

            _identifier = LanguageIdentifier(
                data["ptc"], data["pc"], data["classes"].tolist(), _to_array(data["nextmove"]),
                data["out_feat"].tolist(), norm_probs=True, tk_row=_to_array(data["nextmove_row"]),
            )  # fmt: skip
    return _identifier


@dataclass(frozen=True)
class KernelArrays:
    """py3langid's model as the compiled kernel reads it (numpy arrays: no Python lists or array.array copies)."""

    nextmove: np.ndarray  # DFA transitions (distinct 256-entry rows)
    rowbase: np.ndarray  # int64: a state's first transition in ``nextmove``
    output: np.ndarray  # the feature a state emits, or -1
    ptc_bits: np.ndarray  # (features, classes) uint16: the float16 table's bits
    pc: np.ndarray  # float32 class priors
    alias: np.ndarray  # (pairs, 2) int64: (first, duplicate) columns of a label listed twice (srl → sr)
    classes: list[str]

    @classmethod
    def of(cls, data: dict[str, np.ndarray]) -> KernelArrays | None:
        """The arrays, or None when the table holds a value the kernel cannot widen exactly."""
        from socialscore.modeling.behaviour.language_numba import widenable

        ptc_bits = np.ascontiguousarray(data["ptc"], dtype=np.float16).view(np.uint16)
        if not widenable(ptc_bits):
            return None
        classes = [str(c) for c in data["classes"].tolist()]
        first: dict[str, int] = {}
        alias = [(first.setdefault(c, i), i) for i, c in enumerate(classes) if first.setdefault(c, i) != i]
        return cls(
            nextmove=np.ascontiguousarray(data["nextmove"]),
            rowbase=data["nextmove_row"].astype(np.int64) << 8,
            output=np.ascontiguousarray(data["out_feat"]),
            ptc_bits=ptc_bits,
            pc=np.asarray(data["pc"], dtype=np.float32),
            alias=np.asarray(alias, dtype=np.int64).reshape(-1, 2),
            classes=classes,
        )


def _get_arrays() -> KernelArrays | None:
    """The compiled detector's arrays: mapped from this user's cache when a process before saved them there
    (``user_cache_dir()/language-model``), else unpacked from py3langid's model (~0.9 CPU s) and saved there
    for the next process (best effort: a read-only or full home only costs the unpacking again)."""
    global _arrays
    if _arrays is not False:
        return _arrays  # type: ignore[return-value]
    saved = None
    if _user_cache:
        from socialscore.layout import user_cache_dir

        saved = user_cache_dir() / "language-model"
        load_saved_arrays(saved)
        if _arrays is not False:
            return _arrays  # type: ignore[return-value]
    data = _get_model_data()
    with _lock:
        if _arrays is False:
            _arrays = KernelArrays.of(data)
    if _arrays is not None and saved is not None:
        from socialscore.modeling.behaviour import language_cache

        try:
            language_cache.save(_arrays, saved)
        except OSError:
            pass
    return _arrays  # type: ignore[return-value]


def skip_user_cache() -> None:
    """Neither map nor save the arrays in the user's cache in this process (serving: see ``_user_cache``)."""
    global _user_cache
    _user_cache = False


def save_arrays(directory: Path) -> str:
    """Save the compiled detector's arrays unpacked in ``directory`` (see language_cache.py); say what was done."""
    from socialscore.modeling.behaviour import language_cache

    arrays = _get_arrays()
    if arrays is None:
        return "language model not saved: the compiled detector cannot use it (py3langid runs it)"
    language_cache.save(arrays, directory)
    return f"language model saved unpacked in {directory}"


def load_saved_arrays(directory: Path) -> str:
    """Use the arrays :func:`save_arrays` wrote in ``directory`` (memory-mapped, no decompressing) unless
    this process has its arrays already; say what happened. A stale or missing copy changes nothing."""
    global _arrays
    from socialscore.modeling.behaviour import language_cache

    if _arrays is not False:
        return "language model already loaded"
    fields, message = language_cache.load(directory)
    if fields is not None:
        with _lock:
            if _arrays is False:
                _arrays = KernelArrays(**fields)
    return message


def script_of(text: str) -> str | None:
    """The most frequent script among the letters of ``text`` (kana wins over shared CJK ideographs)."""
    if text.isascii():  # every ASCII letter is Latin: skips a name lookup per character (most comments)
        return "Latn" if any(char.isalpha() for char in text) else None
    counts: Counter[str] = Counter()
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "")
            code = _SCRIPTS.get(name.split(" ", 1)[0], "Zyyy") if name else "Zyyy"
            counts[code] += 1
    if not counts:
        return None
    if counts["Jpan"] and counts["Hani"]:
        counts["Jpan"] += counts.pop("Hani")
    return counts.most_common(1)[0][0]


def detect_language(text: str) -> str:
    """An ISO 639-1 code, ``und-<Script>`` when unsure, or ``und`` when the text has no letters."""
    text = text[:MAX_CHARS]
    script = script_of(text)
    if script is None:
        return UNDETERMINED
    language, confidence = _get_identifier().classify(text)
    return str(language) if confidence >= MIN_CONFIDENCE else f"{UNDETERMINED}-{script}"


def detect_languages(texts: Iterable[str], compiled: bool | None = None) -> list[str]:
    """:func:`detect_language` of each text; by default in one compiled call for the batch
    (``compiled=False``: py3langid's own Python path, one text at a time)."""
    model = None if compiled is False or not _compiled_available() else _get_arrays()
    if model is None:
        return [detect_language(t or "") for t in texts]
    tags: list[str] = []
    pending: list[int] = []  # positions of texts with letters: the kernel decides them
    scripts: list[str] = []
    encoded: list[bytes] = []
    for text in texts:
        text = (text or "")[:MAX_CHARS]
        script = script_of(text)
        if script is None:
            tags.append(UNDETERMINED)
            continue
        pending.append(len(tags))
        tags.append("")
        scripts.append(script)
        encoded.append(_encode(text))
    if not pending:
        return tags
    from socialscore.modeling.behaviour.language_numba import classify_batch

    ends = np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)))
    starts = ends - np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    best = np.empty(len(encoded), dtype=np.int64)
    confidence = np.empty(len(encoded), dtype=np.float32)
    classify_batch(
        np.frombuffer(b"".join(encoded), dtype=np.uint8), starts, ends, model.nextmove, model.rowbase,
        model.output, model.ptc_bits, model.pc, model.alias, best, confidence,
    )  # fmt: skip
    classes = model.classes
    for position, script, index, conf in zip(pending, scripts, best.tolist(), confidence.tolist(), strict=True):
        tags[position] = classes[index] if conf >= MIN_CONFIDENCE else f"{UNDETERMINED}-{script}"
    return tags


def _compiled_available() -> bool:
    """numba imports and is not switched off (the featurizer's switch, ``SOCIALSCORE_NO_NUMBA``, too)."""
    from socialscore.modeling.featurizers.hash_kernel import compiled_available

    return compiled_available()


def _encode(text: str) -> bytes:
    """The bytes py3langid classifies for ``text`` (its ``LanguageIdentifier._encode``)."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


@dataclass
class LanguageProfile:
    """The languages and scripts of the training texts (shares of the sampled texts), JSON-able."""

    languages: dict[str, float]
    scripts: dict[str, float]
    n_texts: int
    min_share: float = MIN_SHARE
    detected: dict[str, int] = field(default_factory=dict)  # every tag seen, with its count

    @classmethod
    def from_texts(cls, texts: Sequence[str], min_share: float = MIN_SHARE, sample: int = PROFILE_SAMPLE, seed: int = 0) -> LanguageProfile:
        """Detect the languages of (a seeded sample of at most ``sample``) training texts."""
        chosen = list(texts)
        if len(chosen) > sample:
            chosen = random.Random(seed).sample(chosen, sample)
        tags = detect_languages(chosen)
        scripts = [script_of(t) for t in chosen]
        tag_counts = Counter(tags)
        language_counts = Counter(t for t in tags if not t.startswith(UNDETERMINED))
        script_counts = Counter(s for s in scripts if s is not None)
        n = max(len(chosen), 1)
        return cls(
            languages={k: round(v / n, 4) for k, v in language_counts.most_common() if v / n >= min_share},
            scripts={k: round(v / n, 4) for k, v in script_counts.most_common() if v / n >= min_share},
            n_texts=len(chosen),
            min_share=min_share,
            detected=dict(tag_counts.most_common()),
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "languages": dict(self.languages), "scripts": dict(self.scripts), "n_texts": self.n_texts,
            "min_share": self.min_share, "detected": dict(self.detected),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LanguageProfile:
        return cls(
            languages=dict(state["languages"]), scripts=dict(state["scripts"]), n_texts=int(state["n_texts"]),
            min_share=float(state.get("min_share", MIN_SHARE)), detected=dict(state.get("detected", {})),
        )


def reliable(languages: Sequence[str], profile: LanguageProfile) -> np.ndarray:
    """Per detected tag: True when the model was trained on that language (see the module docstring)."""
    out = np.empty(len(languages), dtype=bool)
    for i, tag in enumerate(languages):
        if tag == UNDETERMINED:
            out[i] = True
        elif tag.startswith(UNDETERMINED + "-"):
            out[i] = tag.split("-", 1)[1] in profile.scripts
        else:
            out[i] = tag in profile.languages
    return out
