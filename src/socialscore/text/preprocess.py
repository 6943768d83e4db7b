"""Model preprocessing shared by training and serving: one comment → a list of normalised tokens.

PII placeholders such as ``[URL]`` stay single upper-case tokens; elongations are shortened
("soooo" → "soo") and leetspeak inside words is undone ("1d10t" → "idiot"). Stop-word removal and
WordNet lemmatisation are optional because they need NLTK data; the defaults need none.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

NO_NUMBA_ENV = "SOCIALSCORE_NO_NUMBA"  # set (not "0"): the Python paths, not numba
PLACEHOLDER_PATTERN = r"\[[A-Za-z][A-Za-z_]*\]"
# a placeholder, or a word: letters/digits with leet symbols or masking stars (f*ck) inside,
# and apostrophe suffixes
WORD_PATTERN = rf"{PLACEHOLDER_PATTERN}|[@$]*[^\W_][\w@$]*(?:\*+[\w@$]+)*(?:['’][\w@$]+)*"
PLACEHOLDER_RE = re.compile(PLACEHOLDER_PATTERN)
WORD_RE = re.compile(WORD_PATTERN)
SPLIT_PLACEHOLDERS_RE = re.compile(f"({PLACEHOLDER_PATTERN})")
ELONGATION_RE = re.compile(r"([a-zA-Z])\1\1+")  # ASCII only: 3x faster than any letter
LEET_CHARS_RE = re.compile(r"[013457@$]")
HAS_LETTER_RE = re.compile(r"[^\W\d_]")
# tokens that merely mix digits and letters: 2nd, 90s, 10am, 5km, mp3, user123, b4
NOT_LEET_RE = re.compile(r"\d+[^\W\d_]{0,2}|[^\W\d_]+\d+")
LEET_TABLE = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})

FIELDS = ("lowercase", "tokenizer", "normalize_elongation", "normalize_leetspeak", "remove_stopwords", "lemmatize")
DEFAULTS: dict[str, Any] = {
    "lowercase": True,
    "tokenizer": "regex",
    "normalize_elongation": True,
    "normalize_leetspeak": True,
    "remove_stopwords": False,
    "lemmatize": False,
}


def _settings_dict(settings: Any) -> dict[str, Any]:
    if settings is None:
        return dict(DEFAULTS)
    if hasattr(settings, "model_dump"):
        settings = settings.model_dump()
    elif not isinstance(settings, dict):
        settings = {name: getattr(settings, name) for name in FIELDS if hasattr(settings, name)}
    unknown = set(settings) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown preprocessing settings: {sorted(unknown)}")
    return {**DEFAULTS, **settings}


class TextPreprocessor:
    """Callable text normaliser; picklable (NLTK objects are rebuilt lazily after unpickling)."""

    def __init__(self, settings: Any = None, nltk_cache_dir: Path | None = None) -> None:
        self.settings = _settings_dict(settings)
        self.nltk_cache_dir = nltk_cache_dir
        for name, value in self.settings.items():
            setattr(self, name, value)
        if self.tokenizer not in ("regex", "tweet"):
            raise ValueError(f"unknown tokenizer {self.tokenizer!r}: use 'regex' or 'tweet'")
        self._reset()

    def _reset(self) -> None:
        self._tokenize = None
        self._stopwords: frozenset[str] | None = None
        self._lemmas: dict[str, str] = {}
        self._lemmatizer = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_tokenize", "_stopwords", "_lemmas", "_lemmatizer"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset()

    def required_resources(self) -> list[str]:
        """The NLTK resources these settings need (empty for the defaults)."""
        needed = []
        if self.remove_stopwords:
            needed.append("stopwords")
        if self.lemmatize:
            needed.append("wordnet")
        return needed

    def prepare(self) -> TextPreprocessor:
        """Load the NLTK data the settings need now (raises NltkResourceError if unavailable)."""
        self._ensure_loaded()
        return self

    # --- the work ---------------------------------------------------------------------------------
    def __call__(self, text: str) -> str:
        """The normalised text: tokens joined by single spaces."""
        return " ".join(self.tokens(text))

    def tokens(self, text: str) -> list[str]:
        if not text:
            return []
        if self._tokenize is None:
            self._ensure_loaded()
        if self.normalize_elongation:
            text = ELONGATION_RE.sub(r"\1\1", text)
        if self.lowercase:
            text = text.lower()
        return self._finish(self._tokenize(text))

    def _finish(self, out: list[str]) -> list[str]:
        """Token-level rules: leetspeak undone, stop words out, lemmas."""
        if self.normalize_leetspeak:
            out = [_unleet(t) if not t.isalpha() and t[0] != "[" else t for t in out]
        if self._stopwords:
            stop = self._stopwords
            out = [t for t in out if t not in stop]
        if self.lemmatize:
            out = [self._lemma(t) for t in out]
        return out

    def tokens_batch(self, texts: list[str]) -> list[list[str]]:
        """``[self.tokens(t) for t in texts]``, compiled for the default rules when numba imports."""
        batch = self.token_batch(texts)
        if batch is None:
            return [self.tokens(t) for t in texts]
        ends = np.cumsum(batch.doc_tokens)
        return [batch.flat[e - n : e] for e, n in zip(ends.tolist(), batch.doc_tokens.tolist(), strict=True)]

    def token_batch(self, texts: list[str]) -> TokenBatch | None:
        """The texts' tokens from one compiled pass, or None where that pass does not apply (the
        tweet tokenizer, stop words, lemmas, numba off or missing, a text containing U+0000)."""
        kernel = _token_kernel() if self.tokenizer == "regex" and not self.remove_stopwords and not self.lemmatize else None
        if kernel is None or not texts:
            return None
        tokenise, flags = kernel
        text = "\0".join(texts)  # no rule matches across U+0000, nor does str.lower's final sigma look past it
        if text.count("\0") != len(texts) - 1:
            return None
        lowered = text.lower() if self.lowercase else text
        if len(lowered) != len(text):  # a lower-case form longer than its letter (İ) in some text
            lowered, text = ("\0".join(parts) for parts in zip(*map(self._lower_aligned, texts), strict=True))
        cps = _code_points(lowered)
        orig = cps if lowered is text else _code_points(text)
        tok_cps, utf8, tok_chars, doc_tokens = tokenise(
            cps, orig, len(texts), flags, self.normalize_leetspeak, self.normalize_elongation
        )
        return TokenBatch(tok_cps, utf8, tok_chars, doc_tokens)

    def _lower_aligned(self, text: str) -> tuple[str, str]:
        """The text lower-cased, and the code points whose letter runs the compiled pass shortens in
        it: the text itself, or (a lower-case form is longer) U+0000s after shortening them here."""
        lowered = text.lower()
        if len(lowered) == len(text):
            return lowered, text
        if self.normalize_elongation:
            lowered = ELONGATION_RE.sub(r"\1\1", text).lower()
        return lowered, "\0" * len(lowered)

    def _lemma(self, token: str) -> str:
        lemma = self._lemmas.get(token)
        if lemma is None:
            lemma = token if token[0] == "[" else self._lemmatizer.lemmatize(token)
            if len(self._lemmas) < 200_000:
                self._lemmas[token] = lemma
        return lemma

    def _ensure_loaded(self) -> None:
        from socialscore.text.nltk_resources import ensure_resource

        for name in self.required_resources():
            ensure_resource(name, self.nltk_cache_dir)
        if self.remove_stopwords:
            from nltk.corpus import stopwords

            self._stopwords = frozenset(stopwords.words("english"))
        if self.lemmatize:
            from nltk.stem import WordNetLemmatizer

            self._lemmatizer = WordNetLemmatizer()
            self._lemmatizer.lemmatize("warmup")
        self._tokenize = self._build_tokenizer()

    def _build_tokenizer(self):
        if self.tokenizer == "regex":
            # the same as nltk's RegexpTokenizer(WORD_PATTERN), without importing nltk (seconds)
            return _fix_placeholders(WORD_RE.findall)
        from nltk.tokenize import TweetTokenizer

        tweet = TweetTokenizer(preserve_case=True, reduce_len=False, strip_handles=False)

        def tokenize(text: str) -> list[str]:
            out: list[str] = []
            for i, part in enumerate(SPLIT_PLACEHOLDERS_RE.split(text)):
                if i % 2:
                    out.append(part.upper())
                elif part.strip():
                    out.extend(tweet.tokenize(part))
            return out

        return tokenize


def _fix_placeholders(tokenize):
    """Placeholders come out upper-case whatever the lower-casing did to them."""

    def run(text: str) -> list[str]:
        return [t.upper() if t[0] == "[" else t for t in tokenize(text)]

    return run


class TokenBatch:
    """A batch's tokens back to back: UTF-8 bytes, code points per token, tokens per text, and
    (decoded on first use) as strings."""

    __slots__ = ("_flat", "doc_tokens", "tok_chars", "tok_cps", "utf8")

    def __init__(self, tok_cps: np.ndarray, utf8: np.ndarray, tok_chars: np.ndarray, doc_tokens: np.ndarray) -> None:
        self.tok_cps, self.utf8, self.tok_chars, self.doc_tokens = tok_cps, utf8, tok_chars, doc_tokens
        self._flat: list[str] | None = None

    @property
    def flat(self) -> list[str]:
        if self._flat is None:  # tok_cps: each token's code points then a 0
            text = self.tok_cps.tobytes().decode("utf-32-le", "surrogatepass")
            self._flat = text.split("\0")[: len(self.tok_chars)]
        return self._flat


_KERNEL: list[Any] = []  # [] = not tried yet; [None] = unavailable; [(tokenise, flags)]


def _token_kernel() -> tuple[Any, np.ndarray] | None:
    """The compiled tokeniser and its code point table (built on first use), or None without numba."""
    if os.environ.get(NO_NUMBA_ENV, "").strip() not in ("", "0"):
        return None
    if not _KERNEL:
        try:
            from socialscore.text import token_numba  # imports numba
        except ImportError:
            _KERNEL.append(None)
        else:
            _KERNEL.append((token_numba.tokenise, token_numba.code_point_flags()))
    return _KERNEL[0]


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)


def _unleet(token: str) -> str:
    if (
        LEET_CHARS_RE.search(token) is None
        or HAS_LETTER_RE.search(token) is None
        or NOT_LEET_RE.fullmatch(token) is not None
    ):
        return token
    return token.translate(LEET_TABLE)
