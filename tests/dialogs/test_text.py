"""Reading what users type: folding, and the personnummer warning (patterns, not phone numbers)."""

from __future__ import annotations

import pytest

from dialogs.text import (
    contains_personnummer,
    fold,
    fold_plain,
    mask_personnummer,
    matches_phrase,
    starts_with_phrase,
)


def test_fold() -> None:
    assert fold("Vårdnadshavarna ÄR här!") == "vardnadshavarna ar har"
    assert fold_plain("Vet inte?") == "vet inte"
    assert matches_phrase("  VET INTE. ", ["vet inte"])
    assert matches_phrase("hoppa over", ["hoppa över"])
    assert not matches_phrase("", ["vet inte"])
    assert not matches_phrase("jag vet inte vad jag ska göra", ["vet inte"])


@pytest.mark.parametrize(
    "text",
    [
        "150312-2382",  # YYMMDD-XXXX
        "eleven 150312-2385 har",
        "20150312-2385",  # YYYYMMDD-XXXX
        "201503122385",  # YYYYMMDDXXXX
        "1503122382",  # YYMMDDXXXX (check digit fits)
        "150312+2385",  # 100 years or older
        "150312 - 2385",
        "150372-2389",  # samordningsnummer (day + 60)
        "pnr:150312–2385.",
    ],
)
def test_personnummer_patterns_are_found(text: str) -> None:
    assert contains_personnummer(text)


@pytest.mark.parametrize(
    "text",
    [
        "070-123 45 67",  # mobile number with spaces
        "0701234567",  # ten digits, but the check digit does not fit
        "08-000 12 34",
        "151312-2385",  # month 13
        "150300-2385",  # day 0
        "123",
        "2026-03-03 kl. 12.00",
        "1234567890123",  # longer digit run
        "1503122385",  # ten digits whose check digit does not fit
    ],
)
def test_other_numbers_are_not_flagged(text: str) -> None:
    assert not contains_personnummer(text)


def test_mask() -> None:
    masked = mask_personnummer("A 150312-2385 och 201503122385.", "[borttaget]")
    assert masked == "A [borttaget] och [borttaget]."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tack för hjälpen, du är bäst", True),
        ("Tack så mycket!", True),
        ("TACK", True),
        ("tack, men måste jag anmäla?", False),  # a question
        ("tackla problemet med frånvaron", False),  # a word that only begins like it
        ("tack för hjälpen men jag undrar fortfarande en sak om anmälan", False),  # too long
        ("", False),
    ],
)
def test_starts_with_phrase(text: str, expected: bool) -> None:
    phrases = ["tack", "tack så mycket", "tack för hjälpen"]
    assert starts_with_phrase(text, phrases, max_words=8) is expected
