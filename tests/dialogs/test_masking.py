"""dialogs.masking: what the learning loop stores has personnummer, phone numbers, e-mail
addresses and names replaced — tested on realistic staff messages — and ordinary questions stay
readable for the editors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from common.catalogue import Catalogue
from dialogs import MESSAGES
from dialogs.masking import Masker
from knowledge.loader import KnowledgeBase

BLIND = Path(__file__).resolve().parents[2] / "knowledge" / "data" / "questions" / "blind-2026-12"


@pytest.fixture(scope="module")
def masker() -> Masker:
    from dialogs import texts
    from knowledge.loader import load

    return Masker.for_knowledge_base(load().directory, texts(), MESSAGES)


@pytest.mark.parametrize(
    "text",
    [
        "Eleven 120315-1234 har inte ätit på flera dagar",
        "Eleven 120315+1234 har inte ätit",  # 100 years or older: a plus
        "Eleven 20120315-1234 har inte ätit",
        "Eleven 201203151234 har inte ätit",
        "Eleven 1203151234 har inte ätit",  # ten digits, no separator (Luhn or not)
        "Eleven 120375-1234 har inte ätit",  # samordningsnummer (day + 60)
        "Eleven 120315 1234 har inte ätit",
        "Eleven 129915-1234 har inte ätit",  # an impossible date is still masked
    ],
)
def test_personnummer(masker: Masker, text: str) -> None:
    assert masker.mask(text) == re.sub(r"\d[\d +-]*\d", "[personnummer]", text)


@pytest.mark.parametrize(
    "number",
    [
        "070-123 45 67",
        "0701234567",
        "070 123 45 67",
        "073-1234567",
        "+46 70 123 45 67",
        "+46701234567",
        "0046 70 123 45 67",
        "08-123 456 78",
        "08 12 34 56",
        "031-12 34 56",
        "0771-12 34 56",
        "(08) 123 45 67",
        "5083 2000",  # no area code: seven digits or more are masked all the same
        "+44 20 7946 0958",
    ],
)
def test_phone_numbers(masker: Masker, number: str) -> None:
    assert masker.mask(f"Kan jag ringa mamman på {number} innan jag anmäler?") == (
        "Kan jag ringa mamman på [telefon] innan jag anmäler?"
    )


@pytest.mark.parametrize(
    "address",
    ["anna.lind@skolan.se", "kalle_s+oro@example.com", "rektor@förskolan.stockholm.se"],
)
def test_email_addresses(masker: Masker, address: str) -> None:
    assert masker.mask(f"Skicka svaret till {address} tack") == "Skicka svaret till [e-post] tack"


# Realistic messages: (typed, stored).
CASES = [
    (
        "Eleven heter Kalle Svensson och bor på Storgatan 5, måste jag anmäla?",
        "Eleven heter [namn] och bor på [namn] 5, måste jag anmäla?",
    ),
    (
        "Min elev Nour Ahmadi, 120315-1234, berättar att pappa slår henne. Vad gör jag?",
        "Min elev [namn], [personnummer], berättar att pappa slår henne. Vad gör jag?",
    ),
    (
        "Hur gör jag med ahmed i 3b som inte kommer till skolan?",
        "Hur gör jag med [namn] i 3b som inte kommer till skolan?",
    ),
    (
        "Får jag berätta för Lisas mamma att vi har gjort en orosanmälan?",
        "Får jag berätta för [namn] mamma att vi har gjort en orosanmälan?",
    ),
    (
        "Vad gäller när eleven zlatko säger att han inte vill gå hem?",
        "Vad gäller när eleven [namn] säger att han inte vill gå hem?",
    ),
    (
        "Ahmed säger att han är rädd för sin pappa, vad ska jag göra?",
        "[namn] säger att han är rädd för sin pappa, vad ska jag göra?",
    ),
    (
        "eleven heter saga och hennes bror heter max",
        "eleven heter [namn] och hennes bror heter [namn]",
    ),
    (
        "Hej! Jag heter Maria och är lärare, ring mig på 0701234567 eller maria@skolan.se",
        "Hej! Jag heter [namn] och är lärare, ring mig på [telefon] eller [e-post]",
    ),
    (
        "Mamman till Anna-Karin har bett om att få se anmälan.",
        "Mamman till [namn] har bett om att få se anmälan.",
    ),
    (
        "Kan vi ha möte kl 08.30 med socialsekreteraren Per Olsson?",
        "Kan vi ha möte kl 08.30 med socialsekreteraren [namn]?",
    ),
    ("Pojken Ibrahim har blåmärken på armarna.", "Pojken [namn] har blåmärken på armarna."),
    ("Saga i min klass sover dåligt.", "[namn] i min klass sover dåligt."),
    (
        "Vår elev Kimiya Rostami har varit borta i tre veckor",
        "Vår elev [namn] har varit borta i tre veckor",
    ),
    (
        "flickan amira berättade att hon inte får gå ut",
        "flickan [namn] berättade att hon inte får gå ut",
    ),
    ("My student John Smith says his dad hits him", "My student [namn] says his dad hits him"),
    # Names that are also words: first in a sentence, after "pojken", as a possessive.
    ("Liv berättade att pappa slår, vad gör jag?", "[namn] berättade att pappa slår, vad gör jag?"),
    ("Bo i 2a har blåmärken", "[namn] i 2a har blåmärken"),
    ("pojken hans har blåmärken", "pojken [namn] har blåmärken"),
    ("Får jag prata med Marks mamma om anmälan?", "Får jag prata med [namn] mamma om anmälan?"),
]


@pytest.mark.parametrize(("typed", "stored"), CASES)
def test_realistic_messages(masker: Masker, typed: str, stored: str) -> None:
    assert masker.mask(typed) == stored


@pytest.mark.parametrize(
    "question",
    [
        "Måste jag berätta för vårdnadshavarna att jag anmäler?",
        "Vad är BUS och hur bokar jag ett möte med EHT?",
        "Vad får soc säga till mig om familjen utan föräldrarnas ok?",
        "vad far soc saga till mig om anmalan",  # no å/ä/ö: "saga" is "säga"
        "Vad heter det när man rådfrågar socialtjänsten utan namn?",
        "Vem betalar lunchen på skolresan den 2026-05-12?",
        "Kan jag ringa 112 eller 1177 på natten?",
        "Gällde det läsåret 2019-2020 eller 2020 - 2021?",
        "Socialtjänsten har öppet 08.00-16.30 och klass 7b har 25 elever",
        "Jag undrar om jag får lämna ut uppgifter till Försäkringskassan.",
        "Eleven bad mig lova att inte säga något. Får jag hålla det hemligt?",
        "Finns det en blankett för orosanmälan?",
        "Vad är lex Sarah och gäller den skolan?",
        "Gäller 14 kap. 1 § SoL fortfarande?",
        "Can I report anonymously?",
    ],
)
def test_ordinary_questions_are_left_alone(masker: Masker, question: str) -> None:
    assert masker.mask(question) == question


def test_masking_is_idempotent_and_collapses_whitespace(masker: Masker) -> None:
    for _typed, stored in CASES:
        assert masker.mask(stored) == stored
    assert masker.mask("  Får\njag\t anmäla? ") == "Får jag anmäla?"


def test_most_blind_questions_are_stored_as_written(masker: Masker) -> None:
    """Over-masking is preferred, but the editors must be able to read what was asked: on the
    3,320 blind staff questions (no personal details in them) at most 5 % change (2.5 % when
    written, nearly all of them place names: Huddinge, Nacka, Farsta …)."""
    questions = [
        q["q"]
        for path in sorted(BLIND.glob("set_*.yaml"))
        for q in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    ]
    assert len(questions) > 3000
    changed = [q for q in questions if masker.mask(q) != " ".join(q.split())]
    assert len(changed) / len(questions) <= 0.05


def test_placeholders_come_from_the_catalogue(kb: KnowledgeBase, messages: Catalogue) -> None:
    replaced = messages.replaced({"masking.name": "[N]"})
    m = Masker.for_knowledge_base(kb.directory, replaced, MESSAGES)
    assert m.mask("Kan Kalle komma?") == "Kan [N] komma?"
    with pytest.raises(ValueError):
        Masker(lambda: m.vocabulary, {"name": "[N]"})
