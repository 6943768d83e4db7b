"""PII scrubbing: each kind becomes its placeholder, look-alikes (dates, years, versions) do not."""

from collections import Counter

import pytest

from socialscore.text.pii import PLACEHOLDERS, SCRUB_PLACEHOLDERS, scrub, scrub_many


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("mail me at john.doe+x@example.co.uk.", "mail me at [EMAIL].", "EMAIL"),
        ("see https://en.wikipedia.org/wiki/Foo), ok", "see [URL]), ok", "URL"),
        ("visit www.example.com, now", "visit [URL], now", "URL"),
        ("it is on example.org/path.", "it is on [URL].", "URL"),
        ("HTTP://EXAMPLE.COM/X", "[URL]", "URL"),
        ("edited from 89.205.38.27 again", "edited from [IP] again", "IP"),
        ("v6 2001:db8:85a3::8a2e:370:7334 here", "v6 [IP] here", "IP"),
        ("call 555-123-4567 now", "call [PHONE] now", "PHONE"),
        ("call (555) 123-4567", "call [PHONE]", "PHONE"),
        ("ring +44 20 7946 0958 please", "ring [PHONE] please", "PHONE"),
        ("@mayasolovely: you too", "[USER]: you too", "USER"),
        ("RT @bob_1 hi", "RT [USER] hi", "USER"),
        # defects from issue 13: each of these survived the regex-only scrubber
        ("pay with 4111 1111 1111 1111 today", "pay with [CARD] today", "CARD"),
        ("card 4111-1111-1111-1111", "card [CARD]", "CARD"),
        ("mail john dot doe at gmail dot com", "mail [EMAIL]", "EMAIL"),
        ("mail john(at)example(dot)org!", "mail [EMAIL]!", "EMAIL"),
        ("mail john [at] example [dot] org", "mail [EMAIL]", "EMAIL"),
        ("ask jane@company about it", "ask [EMAIL] about it", "EMAIL"),
        ("or admin@localhost", "or [EMAIL]", "EMAIL"),
        ("ring 020 7946 0958 (London)", "ring [PHONE] (London)", "PHONE"),
        ("ruf 030 901820 an", "ruf [PHONE] an", "PHONE"),
        ("ruf 0171 1234567 an", "ruf [PHONE] an", "PHONE"),
        ("ssn 536-22-1234.", "ssn [ID].", "ID"),
        ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN [IBAN] please", "IBAN"),
        ("IBAN GB82WEST12345698765432", "IBAN [IBAN]", "IBAN"),
        ("see example.xyz/about now", "see [URL] now", "URL"),
        ("see bit.ly/3xYzAb now", "see [URL] now", "URL"),
        ("thanks @john.doe.", "thanks [USER].", "USER"),
        ("I live at 221B Baker Street, London", "I live at [ADDRESS], London", "ADDRESS"),
        ("wohnt in der Hauptstraße 5", "wohnt in der [ADDRESS]", "ADDRESS"),
    ],
)
def test_each_kind_becomes_its_placeholder(text: str, expected: str, kind: str) -> None:
    counts: Counter[str] = Counter()
    assert scrub(text, counts) == expected
    assert counts == Counter({kind: 1})


@pytest.mark.parametrize(
    "text",
    [
        "dates 2016-01-11 and 11/01/2016",
        "the war of 1990-2000 and years 1990 2000 3000",
        "e.g. i.e. U.S. Node.js 3.14 v1.2.3 and 1.2.3.4.5",
        "talk 21:51, January 11, 2016 (UTC) at 12:30:45",
        "it costs $1,299.99, score 3-1, open 24/7, v2.10.1 or 3.5, ISBN 978-3-16-148410-0",
        "1234 5678 9012 3456 fails the Luhn check",
        "look at the dot in the middle; file setup.py and readme.md",
        "std::vector and add:: in C++",
        "an already scrubbed [EMAIL] [URL] [IP] [PHONE] [USER] [PERSON]",
    ],
)
def test_look_alikes_are_left_alone(text: str) -> None:
    counts: Counter[str] = Counter()
    assert scrub(text, counts) == text
    assert not counts


def test_url_with_ip_and_email_with_digits_count_once() -> None:
    counts: Counter[str] = Counter()
    assert scrub("http://1.2.3.4/x and user123@mail.example.com", counts) == "[URL] and [EMAIL]"
    assert counts == Counter({"URL": 1, "EMAIL": 1})


def test_scrub_many_counts_per_kind_and_is_idempotent() -> None:
    texts = ["a@b.com and c@d.org", "no pii here", "@x 10.0.0.1", ""]
    scrubbed, counts = scrub_many(texts)
    assert scrubbed == ["[EMAIL] and [EMAIL]", "no pii here", "[USER] [IP]", ""]
    assert counts == {
        "EMAIL": 2, "PHONE": 0, "URL": 0, "USER": 1, "IP": 1, "CARD": 0, "IBAN": 0, "ID": 0, "ADDRESS": 0
    }
    again, counts_again = scrub_many(scrubbed)
    assert again == scrubbed and sum(counts_again.values()) == 0


def test_placeholders_cover_scrubbed_kinds_and_dataset_masks() -> None:
    assert set(SCRUB_PLACEHOLDERS) == {
        "[EMAIL]", "[PHONE]", "[URL]", "[USER]", "[IP]", "[CARD]", "[IBAN]", "[ID]", "[ADDRESS]"
    }
    for mask in ("[PERSON]", "[ORG]", "[GPE]", "[LOC]", "[FAC]"):
        assert mask in PLACEHOLDERS
    assert len(set(PLACEHOLDERS)) == len(PLACEHOLDERS)


def test_masks_in_the_shared_sample_are_all_listed(shared_file) -> None:
    import re

    text = shared_file("data/jigsaw/cleaned_training_sample.csv").read_text(encoding="utf-8")
    masks = set(re.findall(r"\[[A-Z]{3,}\]", text))
    frequent = {m for m in masks if text.count(m) >= 5}  # [NOT], [IMG] occur once: ordinary text
    assert {"[PERSON]", "[ORG]", "[GPE]"} <= frequent
    assert frequent <= set(PLACEHOLDERS), frequent - set(PLACEHOLDERS)


def test_the_public_suffix_list_is_never_fetched(monkeypatch) -> None:
    """tldextract must use its bundled snapshot: any socket use fails this test."""
    import socket

    from socialscore.text.pii import web

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    web._extractor.cache_clear()
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert web.public_suffix("news.bbc.co.uk") == ("bbc", "co.uk")
    assert scrub("see example.xyz/about") == "see [URL]"
