"""Reading what users type: folding, and the personnummer warning (patterns, not phone numbers)."""

from __future__ import annotations

import pytest

from dialogs.text import (
    NameList,
    contains_personnummer,
    find_names,
    fold,
    fold_plain,
    mask_names,
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


# --- names (issue 12: the draft warns on names too) -------------------------------------------


@pytest.fixture(scope="module")
def name_list() -> NameList:
    return NameList.load()


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Kalle Svensson slog henne på rasten", "[namn] slog henne på rasten"),
        ("Igår sa Nour Ahmadi att hon var rädd", "Igår sa [namn] att hon var rädd"),
        ("Maja säger att pappa slår", "[namn] säger att pappa slår"),
        ("Hon säger att Leo slog henne", "Hon säger att [namn] slog henne"),
        ("Sara och Emma bråkade", "[namn] och [namn] bråkade"),
        ("Eleven träffar Per Olsson på fritids", "Eleven träffar [namn] på fritids"),
        ("mohammed sa det", "mohammed sa det"),  # not capitalised: not taken for a name
    ],
)
def test_names_are_found(name_list: NameList, text: str, masked: str) -> None:
    assert mask_names(text, name_list, "[namn]") == masked


@pytest.mark.parametrize(
    "text",
    [
        "Per vecka kommer hon sent två gånger",
        "Hon pratade med EHT och BUS igår",
        "Eleven säger att pappa slår henne.",
        "Max två gånger i veckan",
        "Vi anmälde i september. Socialtjänsten ringde tillbaka.",
    ],
)
def test_ordinary_text_has_no_names(name_list: NameList, text: str) -> None:
    assert find_names(text, name_list) == []
