"""E-mail addresses (plain, without a TLD, obfuscated), URLs (with or without a scheme), @handles, IPs."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from socialscore.text.pii.span import Span

_URL_CHARS = r"[^\s<>\"'\[\]{}|\\^`]"
_TRAILING = ".,;:!?)'\""
_SCHEME_URL = re.compile(rf"\b(?:(?:https?|ftp)://|www\.){_URL_CHARS}+", re.IGNORECASE)
# user@host(.tld)*: a host without a dot (user@localhost, jane@company) is an address too.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]*\w@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*")
_HANDLE = re.compile(r"(?<![\w@])@\w(?:[\w.-]*\w)?")

_AT = r"(?:\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+|\s*\bat\b\s*(?=[\[({<]))"
_DOT = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+|\.)"
_DOT_REVERSED = r"(?:\s*[\])}>]\s*tod\s*[\[({<]\s*|\s+tod\s+|\.)"
_AT_TOKEN = re.compile(_AT, re.IGNORECASE)
# matched on the reversed text before the "at": the user part, read backwards
_OBF_USER_REVERSED = re.compile(rf"[\w+-]+(?:{_DOT_REVERSED}[\w+-]+)*", re.IGNORECASE)
_OBF_DOMAIN = re.compile(rf"[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)+", re.IGNORECASE)
_SPELLED_DOT = re.compile(r"[\[({<]\s*dot\s*[\])}>]|\sdot\s", re.IGNORECASE)
_BRACKETED_AT = re.compile(r"[\[({<]", re.IGNORECASE)


def obfuscation_gate(text: str) -> bool:
    """Cheap test: a spelled-out "dot", a bracketed "at", or " at " in a text with a dot."""
    low = text.lower()
    return "dot" in low or "at)" in low or "at]" in low or "at}" in low or "at>" in low or (
        " at " in low and "." in low
    )


DOMAIN_GATE = re.compile(r"\.[A-Za-z]{2}")  # a literal first character: the scan skips ahead fast
_DOMAIN = re.compile(
    rf"(?<![\w@.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z]{{2,24}}\b(?![.-]\w)(?:/{_URL_CHARS}*)?"
)
# Short suffixes that are also common file extensions: without a path they are not taken as domains.
_FILE_EXTENSIONS = frozenset({"py", "sh", "md", "rs", "cs", "ps", "pl", "so", "am", "pm", "al"})
# Generic TLDs commonly written bare; any other multi-letter TLD (".now", ".you") needs a path or www.
_COMMON_GTLDS = frozenset(
    "com org net edu gov mil int info biz xyz app dev online site news blog shop store tech club "
    "live link top page wiki media website space cloud email name pro mobi tv io co".split()
)

# Country codes that are also English words: a spelled-out "at ... dot in" is prose, not an address.
_ENGLISH_WORD_TLDS = frozenset("in it is at to me be no so us my by as am an do go he hi if of on or up we".split())

IPV4_GATE = re.compile(r"\.\d{1,3}\.\d{1,3}\.\d")


_IPV6_GATE = re.compile(r"[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:")


def ip_gate(text: str) -> bool:
    return ("." in text and IPV4_GATE.search(text) is not None) or (
        ":" in text and _IPV6_GATE.search(text) is not None
    )
_IPV4 = re.compile(r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


@lru_cache(maxsize=1)
def _extractor():
    """tldextract with its bundled public-suffix snapshot only: no download, no cache directory."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def public_suffix(host: str) -> tuple[str, str]:
    """(registrable domain label, public suffix) of ``host``; suffix ``""`` when it has none."""
    parts = _extractor()(host)
    return parts.domain, parts.suffix


def _strip_trailing(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    return end


def find_scheme_urls(text: str) -> list[Span]:
    return [Span(m.start(), _strip_trailing(text, m.start(), m.end()), "URL") for m in _SCHEME_URL.finditer(text)]


def _plausible_email(found: str) -> bool:
    """A host without a dot must look like a name (user@company, admin@localhost), not leetspeak:
    "f@ck", "b@stard", "T@lk" have a one-letter side or a short host."""
    user, _, host = found.rpartition("@")
    if "." in host:
        return True
    return host.lower() == "localhost" or (len(user) >= 3 and len(host) >= 4)


def find_at_forms(text: str) -> list[Span]:
    """E-mail addresses (a TLD is not required) and whole @handles (``@john.doe``)."""
    spans = [Span(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text) if _plausible_email(m.group())]
    taken = [(s.start, s.end) for s in spans]
    for m in _HANDLE.finditer(text):
        if not any(a <= m.start() < b for a, b in taken):
            spans.append(Span(m.start(), m.end(), "USER"))
    return spans


def _is_domain(host: str, has_path: bool) -> bool:
    labels = host.lower().split(".")
    if any(not label for label in labels):
        return False
    domain, suffix = public_suffix(host)
    if not domain or not suffix:
        return False
    if has_path or labels[0] == "www":
        return True
    tld = labels[-1]
    if len(tld) == 2:
        return tld not in _FILE_EXTENSIONS or len(labels) > 2
    return tld in _COMMON_GTLDS


def _at_tokens(text: str):
    """The "at" tokens of ``text`` (``" at "``, ``(at)``, `` [at] ``...): str.find, then a regex match
    only where a whole word "at" stands (a regex scan of every position costs ~70 µs a comment)."""
    low = text.lower()
    index = low.find("at")
    while index != -1:
        before = low[index - 1] if index else " "
        after = low[index + 2] if index + 2 < len(low) else " "
        if not before.isalnum() and not after.isalnum():
            start = index - 1 if before in "[({<" else index
            while start > 0 and low[start - 1].isspace():
                start -= 1
            found = _AT_TOKEN.match(text, start)
            if found and found.end() > index + 1:
                yield found
        index = low.find("at", index + 2)


def find_obfuscated_emails(text: str) -> list[Span]:
    """``john dot doe at gmail dot com``, ``john(at)example(dot)org``, ``john [at] example [dot] org``."""
    spans = []
    for at in _at_tokens(text):
        domain = _OBF_DOMAIN.match(text, at.end())
        if not domain:
            continue
        lead = max(0, at.start() - 64)
        user = _OBF_USER_REVERSED.match(text[lead : at.start()][::-1])
        if not user:
            continue
        user_text = text[at.start() - user.end() : at.start()]
        host = re.sub(_DOT, ".", domain.group(), flags=re.IGNORECASE).rstrip(".")
        bracketed = bool(_BRACKETED_AT.search(at.group()))
        spelled = bool(_SPELLED_DOT.search(domain.group() + " ")) or bool(_SPELLED_DOT.search(user_text))
        if not (bracketed or spelled or re.search(r"[._\d]", user_text)):
            continue  # "look at example.com" is a URL, not an address
        if not bracketed and host.rsplit(".", 1)[-1].lower() in _ENGLISH_WORD_TLDS:
            continue  # "look at the dot in the middle"
        # the domain may run on into the next sentence: cut it at the last label that is a suffix
        labels = host.split(".")
        for n in range(len(labels), 1, -1):
            candidate = ".".join(labels[:n])
            if _is_domain(candidate, has_path=False) or (bracketed or spelled) and public_suffix(candidate)[1]:
                end = _end_of_labels(text, domain.start(), domain.group(), n)
                spans.append(Span(at.start() - user.end(), end, "EMAIL"))
                break
    return spans


def _end_of_labels(text: str, start: int, obfuscated: str, n: int) -> int:
    """Where the ``n``-th label of an obfuscated domain (starting at ``start``) ends in ``text``."""
    pieces = re.split(f"({_DOT})", obfuscated, flags=re.IGNORECASE)
    return start + len("".join(pieces[: 2 * n - 1]))


def find_bare_domains(text: str) -> list[Span]:
    """``example.xyz/about``, ``bit.ly/x``, ``example.org``: hosts whose suffix is a public suffix."""
    spans: list[Span] = []
    done = 0
    for dot in DOMAIN_GATE.finditer(text):  # from each ".xx" back to the start of its host
        start = dot.start()
        if start < done:
            continue
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] in ".-"):
            start -= 1
        m = _DOMAIN.match(text, start)
        if not m:
            continue
        done = m.end()
        host, _, path = m.group().partition("/")
        if _is_domain(host, has_path=bool(path)):
            spans.append(Span(m.start(), _strip_trailing(text, m.start(), m.end()), "URL"))
    return spans


def find_ips(text: str) -> list[Span]:
    spans = []
    if "." in text and IPV4_GATE.search(text):
        spans = [Span(m.start(), m.end(), "IP") for m in _IPV4.finditer(text)]
    if ":" in text and _IPV6_GATE.search(text):
        for m in _IPV6.finditer(text):
            found = m.group()
            if found.count(":") < 3 or not any(c.isdigit() for c in found):
                continue
            try:
                ipaddress.IPv6Address(found)
            except ValueError:
                continue
            spans.append(Span(m.start(), m.end(), "IP"))
    return spans
