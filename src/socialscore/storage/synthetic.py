"""The seeded synthetic example dataset (``socialscore generate``; the fallback when no data is given)."""

from __future__ import annotations

import hashlib
import random
import re

import pandas as pd

from socialscore.storage.csvformat import JIGSAW_LABELS

# --- the synthetic example dataset --------------------------------------------------------------
_TOPICS = (
    "history",
    "football",
    "chemistry",
    "the election",
    "jazz",
    "the city council",
    "cooking",
    "astronomy",
    "the railway",
    "medieval castles",
    "video games",
    "gardening",
    "the river",
    "climate",
    "poetry",
    "basketball",
    "the museum",
    "software",
    "photography",
    "birds",
    "the bridge",
    "opera",
    "volcanoes",
    "the local library",
    "chess",
    "the marathon",
    "ancient Rome",
    "tennis",
    "beekeeping",
)
_THINGS = (
    "paragraph",
    "table",
    "infobox",
    "reference",
    "timeline",
    "summary",
    "caption",
    "lead section",
    "list",
    "chart",
    "citation",
    "photo",
    "template",
    "footnote",
    "map",
)
_GOOD = (
    "great",
    "helpful",
    "clear",
    "interesting",
    "excellent",
    "fine",
    "nice",
    "useful",
    "solid",
    "neat",
)
_INSULTS = (
    "idiot",
    "moron",
    "loser",
    "clown",
    "fool",
    "imbecile",
    "dimwit",
    "buffoon",
    "nitwit",
    "halfwit",
)
_INSULT_ADJ = (
    "stupid",
    "pathetic",
    "dumb",
    "ignorant",
    "clueless",
    "brainless",
    "worthless",
    "useless",
)
# Invented group names stand in for slurs and real identities.
_GROUPS = ("zorbians", "quellites", "vantari", "morlins", "grebs", "tolvans")
_NEUTRAL = (
    "Thanks for fixing the {topic} article, the new {thing} looks {good}.",
    "I added a source for the {thing} in the {topic} section.",
    "Could someone check the dates on the page about {topic}?",
    "The {thing} about {topic} is a bit long, maybe we can split it.",
    "I disagree with your edit to {topic}, but let's discuss it on the talk page.",
    "Has anyone seen the new documentary on {topic}? It was {good}.",
    "Please add a citation before changing the {thing}.",
    "I reverted the change because the {thing} was unsourced.",
    "Great work on {topic}, a really {good} summary.",
    "My sister loves {topic}, we read about it together.",
    "Welcome! If you have questions about {topic}, ask me on my talk page.",
    "This {thing} needs more references from reliable sources.",
    "I think the {topic} image should move into the {thing}.",
    "Sorry, I made a mistake in the {thing}, fixed now.",
    "Does anyone know when the {topic} festival starts?",
    "I respectfully disagree; the {thing} is accurate as written.",
    "Good point about {topic}, I had not thought of that.",
    "The {thing} was updated yesterday, see the history.",
    "Can we merge the two {topic} articles?",
    "ok, thanks for the {good} explanation",
    "I learned a lot about {topic} from this {thing}.",
    "Maybe ask the {topic} project before renaming the {thing}.",
)
_HARD_NEGATIVE = (  # trigger words in harmless use, labelled 0
    "I felt like an idiot when I forgot my keys this morning.",
    "Don't call people stupid, it is not helpful.",
    "That was a damn good {topic} game.",
    "The villain in the {topic} film was a pathetic loser, great writing.",
    "I will find you a better source for the {thing}.",
    "Calling someone a moron is against the rules here.",
    "What a crap day, my train was late again.",
    "The {thing} is stupid long, can we trim it?",
    "Kill the process and restart it, that fixed the {topic} bot.",
    "This {topic} meme is so dumb I love it.",
    "Hell yes, the {topic} section finally has sources.",
    "My dog is a clown, he stole the {thing} printout.",
    "Nobody is a fool for asking about {topic}.",
)
_GROUP_NEUTRAL = (
    "The history of the {group} is covered in the {topic} article.",
    "Several {group} editors improved the {thing} last week.",
    "Is there a source for the {group} population figures?",
)
_MILD = (
    "Shut up.",
    "Nobody cares about your opinion.",
    "This is garbage.",
    "What a joke of an edit.",
    "Get lost.",
    "Stop wasting everyone's time.",
    "Your {thing} is a disgrace.",
)
_HARD_POSITIVE = (
    "Nobody wants you here, just leave.",
    "You are a waste of space.",
    "Go crawl back under your rock.",
    "Your edits are garbage and so are you.",
    "Do everyone a favour and stop talking.",
    "You clearly have the brain of a potato.",
    "Everyone laughs at you behind your back.",
)
_INSULT = (
    "You are such a {insult}.",
    "Only a {insult} would write this {thing}.",
    "Stop editing {topic}, you {adj} {insult}.",
    "{Adj} {insult}, learn to read.",
    "Are you really this {adj}?",
    "What a {adj} {insult} you are.",
    "Listen, {insult}, nobody asked you.",
)
_OBSCENE = (
    "This {thing} is total crap.",
    "Screw you and your {topic} edits.",
    "What the hell is wrong with you?",
    "Piss off, nobody asked.",
    "Your damn {thing} is full of crap.",
    "Bloody hell, stop breaking {topic}.",
    "This freaking {thing} sucks.",
)
_THREAT = (
    "I will find you and you will regret this.",
    "Watch your back, I know where you live.",
    "Keep reverting and I will make you pay.",
    "You better hide, I am coming for you.",
    "Say that again and I will hurt you.",
    "I will find you.",
)
_IDENTITY = (
    "All {group} are {adj} {insult}s.",
    "{Group} should not be allowed to edit here.",
    "Typical {group} nonsense, go back where you came from.",
    "I hate {group}, every single one of them.",
    "Get out, no {group} wanted here.",
    "Never trust {group}, they ruin everything.",
)
_LEET = str.maketrans({"o": "0", "i": "1", "e": "3", "a": "@", "s": "$"})
_EMOJI = ("🙂", "😡", "👍", "🙄", "😂", "!!!", "...", "?!")
# (category, probability, labels always set, {label: probability} sometimes set)
_CATEGORIES: tuple[tuple[str, float, tuple[str, ...], dict[str, float]], ...] = (
    ("neutral", 0.62, (), {}),
    ("hard_negative", 0.10, (), {}),
    ("group_neutral", 0.03, (), {}),
    ("mild", 0.05, ("toxic",), {}),
    ("hard_positive", 0.04, ("toxic",), {"insult": 0.5}),
    ("insult", 0.07, ("toxic", "insult"), {"obscene": 0.2}),
    ("obscene", 0.04, ("toxic", "obscene"), {"insult": 0.3}),
    ("threat", 0.015, ("toxic", "threat"), {"insult": 0.2}),
    ("identity", 0.02, ("toxic", "identity_hate"), {"insult": 0.6}),
    ("severe", 0.015, ("toxic", "severe_toxic", "obscene", "insult"), {"threat": 0.2}),
)
_POOLS = {
    "neutral": _NEUTRAL,
    "hard_negative": _HARD_NEGATIVE,
    "group_neutral": _GROUP_NEUTRAL,
    "mild": _MILD,
    "hard_positive": _HARD_POSITIVE,
    "insult": _INSULT,
    "obscene": _OBSCENE,
    "threat": _THREAT,
    "identity": _IDENTITY,
}


def _fill(rng: random.Random, template: str) -> str:
    adj, group = rng.choice(_INSULT_ADJ), rng.choice(_GROUPS)
    return template.format(
        topic=rng.choice(_TOPICS),
        thing=rng.choice(_THINGS),
        good=rng.choice(_GOOD),
        insult=rng.choice(_INSULTS),
        adj=adj,
        Adj=adj.capitalize(),
        group=group,
        Group=group.capitalize(),
    )


def _severe(rng: random.Random) -> str:
    parts = [
        _fill(rng, rng.choice(_INSULT)),
        _fill(rng, rng.choice(_OBSCENE)),
        _fill(rng, rng.choice(_INSULT)),
    ]
    text = " ".join(parts)
    return text.upper() + "!!!" if rng.random() < 0.6 else text


def _pii(rng: random.Random) -> str:
    user = rng.choice(("alex", "sam.k", "jo_99", "mira"))
    return rng.choice(
        (
            f"mail me at {user}@example.org",
            f"see https://example.com/{rng.choice(_THINGS)}",
            f"@{user.replace('.', '_')} what do you think?",
            f"call {rng.randint(200, 999)}-555-{rng.randint(1000, 9999)}",
            f"edited from 192.0.2.{rng.randint(1, 254)}",
        )
    )


def _noise(rng: random.Random, text: str, toxic: bool) -> str:
    if toxic and rng.random() < 0.15:  # filter evasion: leetspeak or elongation of one word
        words = text.split()
        i = rng.randrange(len(words))
        words[i] = (
            words[i].translate(_LEET)
            if rng.random() < 0.5
            else re.sub(r"([aeiou])", r"\1\1\1", words[i], count=1)
        )
        text = " ".join(words)
    if rng.random() < 0.08:  # a typo: swap two letters
        i = rng.randrange(max(1, len(text) - 1))
        text = text[:i] + text[i + 1 : i + 2] + text[i : i + 1] + text[i + 2 :]
    roll = rng.random()
    if roll < 0.25:
        text = text.lower()
    elif roll < 0.28:
        text = text.upper()
    if rng.random() < 0.1:
        text += " " + rng.choice(_EMOJI)
    if rng.random() < 0.05:
        text += " " + _pii(rng)
    if rng.random() < 0.05:
        text = "  " + text.replace(" ", "  ", 1) + " \n"
    if rng.random() < 0.01:  # full-width letters, folded by NFKC
        text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    return text


def generate_example(n_rows: int = 6000, seed: int = 42) -> pd.DataFrame:
    """A deterministic synthetic dataset in the Jigsaw format (id, comment_text, 6 labels as 0/1).

    Templates × vocabulary × noise with mild words only; hard negatives (trigger words used harmlessly),
    toxic comments without trigger words, ~4% label noise and ~1% duplicates, so a TF-IDF model learns
    a lot but not everything. Toxic rate ≈ 25%; severe_toxic, threat, identity_hate imply toxic.
    """
    rng = random.Random(seed)
    names = [c[0] for c in _CATEGORIES]
    weights = [c[1] for c in _CATEGORIES]
    ids, texts, rows = [], [], []
    for i in range(n_rows):
        if texts and rng.random() < 0.01:  # a duplicate; every fifth with different labels
            j = rng.randrange(len(texts))
            labels = dict(rows[j])
            if rng.random() < 0.2:
                labels["toxic"] = 1 - labels["toxic"]
            ids.append(hashlib.sha256(f"example:{seed}:{i}".encode()).hexdigest()[:16])
            texts.append(texts[j])
            rows.append(labels)
            continue
        category = rng.choices(names, weights)[0]
        _, _, always, sometimes = _CATEGORIES[names.index(category)]
        labels = {label: int(label in always) for label in JIGSAW_LABELS}
        for label, p in sometimes.items():
            if rng.random() < p:
                labels[label] = 1
        core = _severe(rng) if category == "severe" else _fill(rng, rng.choice(_POOLS[category]))
        context = [_fill(rng, rng.choice(_NEUTRAL)) for _ in range(rng.choice((0, 1, 1, 2, 2)))]
        context.insert(rng.randrange(len(context) + 1), core)
        text = _noise(rng, " ".join(context), labels["toxic"] == 1)
        if rng.random() < 0.04:  # annotators disagree
            if labels["toxic"]:
                labels = dict.fromkeys(JIGSAW_LABELS, 0)
            else:
                labels["toxic"] = 1
        elif labels["toxic"] and rng.random() < 0.1:  # ... or only on a sub-label
            sub = rng.choice(("obscene", "insult", "threat", "identity_hate"))
            labels[sub] = 1 - labels[sub]
        ids.append(hashlib.sha256(f"example:{seed}:{i}".encode()).hexdigest()[:16])
        texts.append(text)
        rows.append(labels)
    frame = pd.DataFrame(rows, columns=list(JIGSAW_LABELS)).astype("int64")
    frame.insert(0, "comment_text", texts)
    frame.insert(0, "id", ids)
    return frame
