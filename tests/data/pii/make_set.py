"""Build the labelled PII test set ``labelled.jsonl`` (deterministic; rerun after editing).

    uv run python tests/data/pii/make_set.py

Each line: {"text": ..., "spans": [[start, end, KIND], ...]}. Values are generated so that they pass
the same checks real ones do (valid phone numbers per region, Luhn-valid cards, IBANs with correct
check digits, national ids with correct check characters); look-alikes that must NOT be scrubbed
(years, prices, scores, versions, dates, times, ISBNs, failing checksums) make up the rest.
"""

from __future__ import annotations

import json
import random
import re
import string
from pathlib import Path

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn, verhoeff
from stdnum.br import cpf
from stdnum.es import dni
from stdnum.iso7064 import mod_97_10
from stdnum.it import codicefiscale

HERE = Path(__file__).resolve().parent
rng = random.Random(20261201)
FMT = phonenumbers.PhoneNumberFormat


def phones() -> list[str]:
    national = ("US", "GB", "DE", "FR", "IN", "ES", "IT", "NL", "AU", "BR", "JP", "MX")
    international = ("CH", "SE", "PL", "ZA", "NG", "SG", "IE", "CA", "AT", "BE", "KR", "AR", "PT", "NZ")
    out = []
    for region in national + international:
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            base = phonenumbers.example_number_for_type(region, kind)
            for _ in range(40):  # vary the last digits, keep valid numbers
                digits = str(base.national_number)
                digits = digits[:-3] + f"{rng.randrange(1000):03d}"
                number = phonenumbers.parse("+" + str(base.country_code) + digits)
                if phonenumbers.is_valid_number(number):
                    break
            else:
                number = base
            formats = [FMT.INTERNATIONAL, FMT.E164] + [FMT.NATIONAL] * (2 if region in national else 0)
            out.append(phonenumbers.format_number(number, rng.choice(formats)))
    out += ["+44 (0)20 7946 0958", "0044 20 7946 0958", "212.555.0147", "415-555-2671", "(555) 123-4567"]
    return out


def cards() -> list[str]:
    out = []
    for prefix, length, groups in (
        ("4", 16, (4, 4, 4, 4)), ("51", 16, (4, 4, 4, 4)), ("55", 16, (4, 4, 4, 4)),
        ("2221", 16, (4, 4, 4, 4)), ("37", 15, (4, 6, 5)), ("34", 15, (4, 6, 5)),
        ("6011", 16, (4, 4, 4, 4)), ("35", 16, (4, 4, 4, 4)), ("4", 13, (13,)), ("4", 19, (19,)),
    ):
        for sep in (" ", "-", ""):
            body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
            number = body + luhn.calc_check_digit(body)
            parts, i = [], 0
            for g in groups:
                parts.append(number[i : i + g])
                i += g
            out.append(sep.join(parts))
    return out[:20]


def ibans() -> list[str]:
    out = []
    for country, length in (("DE", 18), ("GB", 18), ("FR", 23), ("IE", 14), ("NL", 14), ("IT", 23), ("CH", 17), ("DK", 14), ("PL", 24), ("AT", 16)):
        if country == "GB":
            bban = "NWBK" + "".join(rng.choice(string.digits) for _ in range(14))
        elif country == "IE":
            bban = "AIBK" + "".join(rng.choice(string.digits) for _ in range(14))
        elif country == "NL":
            bban = "ABNA" + "".join(rng.choice(string.digits) for _ in range(10))
        elif country == "IT":
            bban = "X" + "".join(rng.choice(string.digits) for _ in range(22))
        else:
            bban = "".join(rng.choice(string.digits) for _ in range(length))
        check = mod_97_10.calc_check_digits(bban + country)
        iban = country + check + bban
        assert stdnum_iban.is_valid(iban), iban
        for spaced in (True, False):
            out.append(" ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if spaced else iban)
    return out


def ids() -> list[str]:
    out = []
    for _ in range(5):
        out.append(f"{rng.randrange(1, 666):03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}")
        body = "".join(rng.choice(string.digits) for _ in range(9))
        full = body + cpf._calc_check_digits(body)
        out.append(f"{full[:3]}.{full[3:6]}.{full[6:9]}-{full[9:]}")
        body = str(rng.randrange(2, 10)) + "".join(rng.choice(string.digits) for _ in range(10))
        full = body + verhoeff.calc_check_digit(body)
        out.append(f"{full[:4]} {full[4:8]} {full[8:]}")
        number = f"{rng.randrange(10**7, 10**8)}"
        out.append(number + dni.calc_check_digit(number))
        letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(6))
        body = f"{letters}{rng.randrange(10, 99)}{rng.choice('ABCDEHLMPRST')}{rng.choice((rng.randrange(10, 29), rng.randrange(41, 69)))}A{rng.randrange(100, 999)}"
        out.append(body + codicefiscale.calc_check_digit(body))
        assert codicefiscale.is_valid(out[-1]), out[-1]
    return out


EMAILS = [
    "john.doe@gmail.com", "maria_rossi@libero.it", "a.b+tag@mail.example.co.uk", "j@x.io",
    "user123@mail.ru", "jean-luc.picard@orange.fr", "kai.mueller@web.de", "li.wei@163.com",
    "priya.sharma@yahoo.co.in", "admin@localhost", "jane@company", "root@intranet", "ops@fileserver",
    "john dot doe at gmail dot com", "john(at)example(dot)org", "john [at] example [dot] org",
    "maria {at} gmx {dot} de", "bob AT yahoo DOT com", "jane.doe at outlook.com", "jane<at>proton<dot>me",
    "john.doe (at) gmail (dot) com", "sam_k at hotmail dot co dot uk", "x.y [at] uni-bonn [dot] de",
    "carlos.garcia(at)telefonica.es", "anna.k at gmail.com", "support [at] example.com",
]
URLS = [
    "https://en.wikipedia.org/wiki/Talk:Foo", "http://example.com/a?b=c&d=e", "www.example.com",
    "example.xyz/about", "bit.ly/3xYzAb", "t.co/AbC123", "bbc.co.uk/news/world", "youtu.be/dQw4w9WgXcQ",
    "google.com", "reddit.com/r/wikipedia", "HTTP://EXAMPLE.COM/X", "ftp://files.example.net/pub",
    "github.com/user/repo", "my-blog.wordpress.com", "shop.example.de/produkt/123", "amazon.co.jp",
    "https://www.gov.uk/apply", "nytimes.com/2020/01/01/story.html", "instagram.com/someone", "example.org",
]
USERS = ["@john.doe", "@mary_smith", "@Bob99", "@jean-luc", "@x", "@TheRealAnna", "@dev.team.lead", "@user_2020"]
IPS = ["89.205.38.27", "192.168.0.1", "10.0.0.254", "2001:db8:85a3::8a2e:370:7334", "fe80::1ff:fe23:4567:890a", "203.0.113.9"]
ADDRESSES = [
    "221B Baker Street", "1600 Pennsylvania Ave NW", "10 Downing St", "742 Evergreen Terrace", "350 Fifth Avenue",
    "Hauptstraße 5", "Berliner Str. 12a", "Lindenweg 3", "12 rue de la Paix", "5 avenue des Champs-Élysées",
    "Calle Mayor 10", "Via Roma 1", "Avenida Paulista 1578", "31 Spooner Street", "4 Privet Drive",
    "Goethestrasse 14", "8 boulevard Voltaire", "Piazza Navona 22", "55 Oak Lane", "1 Infinite Loop",
]
CONTEXTS = [
    "{} is where you can reach me", "my details: {}", "Contact: {}.", "please stop posting {} everywhere!!",
    "If you want the source, {} has it", "someone doxxed him: {} lol", "write to {} before Friday",
    "(see {})", "he lives near {}, I think", "{}", "reach her via {} or on the talk page",
    "I reverted the edit that added {} to the article", "in 2019 it was {} but it moved",
]
LOOK_ALIKES = [
    "born in 1987, died 2016", "the war of 1990-2000 and years 1990 2000 3000", "it costs $1,299.99 now",
    "price dropped to £20.50 (was €25)", "final score 3-1, then 1-0 at half time", "open 24/7",
    "upgrade to v2.10.1 or 3.5", "Python 3.11.4 and Windows 10", "dates 2016-01-11 and 11/01/2016",
    "talk 21:51, January 11, 2016 (UTC) at 12:30:45", "ISBN 978-3-16-148410-0", "ISBN 0-306-40615-2",
    "pages 123-145 of volume 7", "ratio 16:9 at 1920x1080", "population 8,336,817 in 2020",
    "coordinates 40.7128, -74.0060", "rated 4.5/5 by 1,234 users", "e.g. i.e. U.S. Node.js ASP and setup.py",
    "section 3.2.1 and Article 5(1)(a)", "WP:NPOV and WP:RS apply", "COVID-19 cases rose 12.5%",
    "order #12345678 shipped", "zip code 90210", "1.5 million people, 2,000,000 views", "3 x 4 = 12",
    "room 101 and Route 66", "the 1990s and 2000s", "call me maybe", "email me when you can",
    "meet me @ 5pm", "look at the dot in the middle", "I'll look at it tomorrow at noon",
    "1234 5678 9012 3456 is not a real card", "account 12345678 at the bank", "ticket 2023-0042",
    "temperature 37.5 C at 10:30 am", "std::vector and add:: in C++", "chapter 11, verse 3:16",
    "from 9 to 5, Mon-Fri", "scores: 98.6, 87.2, 45.0", "+5 points for accuracy", "he was 6'2\" and 190 lbs",
    "released 12.03.2021 and 03/12/21", "a 50/50 chance and 1/2 the time", "between 100-200 edits a day",
    "1st, 2nd and 3rd place", "No. 5 and No.10", "the 737-800 and the A320neo", "serial 12-345-67",
    "an already scrubbed [EMAIL] [URL] [IP] [PHONE] [USER] [PERSON]", "file.txt and readme.md",
    "the year 2525 and 10,000 BC", "it happened at 3:45:12 PM", "ranks #1 in 2019 and #3 in 2020",
    "mix 1:4 with water", "level 99 at 100% health", "UTC+01:00 and GMT-5", "the 3-2-1 rule",
    "Boeing 747 and Airbus A380", "SHA 3f2a9c and commit 4e5d6f7", "version 1.2.3.4.5", "v10.0.19041.1234",
    "1,000-2,000 words", "12 Angry Men (1957)", "see page 42.", "bid $3.5M for 20%", "0.99999999999999999",
    # look-alikes met in the raw Jigsaw comments: leetspeak with @, revision ids
    "what the f@ck is this", "you b@stard", "see my T@lk page", "gg@r", "diff oldid=675004524",
    "revision 647046975 was reverted",
]


def _parts_to_record(parts: list[tuple[str, str | None]]) -> dict:
    text, spans = "", []
    for piece, kind in parts:
        if kind is not None:
            spans.append([len(text), len(text) + len(piece), kind])
        text += piece
    return {"text": text, "spans": spans}


def _with_context(value: str, kind: str) -> dict:
    before, _, after = rng.choice(CONTEXTS).partition("{}")
    return _parts_to_record([(before, None), (value, kind), (after, None)])


def build() -> list[dict]:
    records = []
    for kind, values in (
        ("PHONE", phones()), ("CARD", cards()), ("IBAN", ibans()), ("ID", ids()), ("EMAIL", EMAILS),
        ("URL", URLS), ("USER", USERS), ("IP", IPS), ("ADDRESS", ADDRESSES),
    ):
        records += [_with_context(v, kind) for v in values]
    records += [{"text": t, "spans": []} for t in LOOK_ALIKES]
    for _ in range(60):  # look-alikes and PII in one comment
        kind, value = rng.choice([("PHONE", p) for p in phones()[:20]] + [("EMAIL", e) for e in EMAILS] + [("URL", u) for u in URLS])
        records.append(_parts_to_record([(rng.choice(LOOK_ALIKES) + ". Or ", None), (value, kind), (" " + rng.choice(LOOK_ALIKES), None)]))
    for _ in range(140):  # two look-alikes in one comment
        first, second = rng.sample(LOOK_ALIKES, 2)
        records.append({"text": f"{first}; {second}", "spans": []})
    for r in records:
        for s, e, _ in r["spans"]:
            assert not re.match(r"\s", r["text"][s:e])
    return records


def main() -> None:
    records = build()
    with open(HERE / "labelled.jsonl", "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} comments to {HERE / 'labelled.jsonl'}")


if __name__ == "__main__":
    main()
