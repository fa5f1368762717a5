"""Small text helpers for reading what users type: folding for matching, personnummer and name
checks.

Matching is done on a folded form (lower case, å/ä → a, ö → o, accents and punctuation removed,
whitespace collapsed) so that "Vet inte", "vet inte." and "VET INTE" are the same answer and
staff who type without å/ä/ö are understood.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from common import yaml_safe
from common.text import fold_words

_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-cased, å/ä/ö folded, punctuation removed (except '?'), whitespace collapsed."""
    return fold_words(text, keep="?_")


def fold_plain(text: str) -> str:
    """Like fold, and without question marks: for comparing short answers and names."""
    return _SPACE.sub(" ", fold(text).replace("?", " ")).strip()


@lru_cache(maxsize=4096)
def fold_known(text: str) -> str:
    """fold_plain for the bot's own texts (catalogue phrases, button labels), cached.

    Never pass what a user typed: the cache would keep it in memory."""
    return fold_plain(text)


def words(text: str) -> list[str]:
    return fold_plain(text).split()


def starts_with_phrase(text: str, phrases: Iterable[str], *, max_words: int) -> bool:
    """True if a short statement (no question mark, at most `max_words` words) begins with one
    of the phrases: "tack för hjälpen, du är bäst" is thanks; "tack, men måste jag anmäla?" is
    a question."""
    if "?" in text:
        return False
    ws = words(text)
    if not ws or len(ws) > max_words:
        return False
    for p in phrases:
        pw = fold_known(p).split()
        if pw and ws[: len(pw)] == pw:
            return True
    return False


def matches_phrase(text: str, phrases: Iterable[str]) -> bool:
    """True if the whole (folded) text is one of the phrases (folded)."""
    t = fold_plain(text)
    return bool(t) and any(t == fold_known(p) for p in phrases)


# --- Personnummer -----------------------------------------------------------------------------
#
# YYMMDD-XXXX, YYMMDD+XXXX (100 years or older), YYYYMMDD-XXXX, YYYYMMDDXXXX, YYMMDDXXXX, with an
# optional space before the last four digits. Samordningsnummer (day + 60) count too. A plausible
# date is required; a ten-digit run without separator must also pass the Luhn check, because
# Swedish phone numbers (0701234567) otherwise look like one.

_PNR = re.compile(
    r"(?<![\d])(?P<century>19|20)?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})"
    r"(?P<sep>\s?[-+–]\s?|\s)?(?P<last>\d{4})(?![\d])"
)


@dataclass(frozen=True)
class PnrHit:
    start: int
    end: int


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def find_personnummer(text: str) -> list[PnrHit]:
    hits: list[PnrHit] = []
    for m in _PNR.finditer(text):
        mm, dd = int(m["mm"]), int(m["dd"])
        if not 1 <= mm <= 12:
            continue
        if not (1 <= dd <= 31 or 61 <= dd <= 91):
            continue
        sep = (m["sep"] or "").strip()
        # Ten digits in a row (or with only a space): require the check digit to fit.
        digits = m["yy"] + m["mm"] + m["dd"] + m["last"]
        if m["century"] is None and not sep and not _luhn_ok(digits):
            continue
        hits.append(PnrHit(m.start(), m.end()))
    return hits


def contains_personnummer(text: str) -> bool:
    return bool(find_personnummer(text))


def mask_personnummer(text: str, replacement: str) -> str:
    out, pos = [], 0
    for hit in find_personnummer(text):
        out.append(text[pos : hit.start])
        out.append(replacement)
        pos = hit.end
    out.append(text[pos:])
    return "".join(out)


# --- Names ------------------------------------------------------------------------------------
#
# A report draft must not carry the child's (or anyone's) name: the name goes straight into the
# kommun's e-tjänst. A name is a capitalised word from the list of common first names in
# dialogs/names.sv.yaml (names that are also ordinary words only with a capitalised surname
# after them), or two capitalised words in a row ("Nour Ahmadi"). Abbreviations in capitals
# (EHT, BUS) are not names. A false alarm costs the user one press ("Det är inget namn").

NAMES_FILE = Path(__file__).with_name("names.sv.yaml")
_NAME_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.UNICODE)


@dataclass(frozen=True)
class NameList:
    names: frozenset[str]  # folded
    also_words: frozenset[str]  # folded: names only with a surname

    @classmethod
    def load(cls, path: Path = NAMES_FILE) -> NameList:
        data = yaml_safe.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            frozenset(fold_plain(str(n)) for n in data["names"]),
            frozenset(fold_plain(str(n)) for n in data["also_words"]),
        )


def _capitalised(word: str) -> bool:
    return len(word) >= 2 and word[0].isupper() and not word.isupper()


def find_names(text: str, names: NameList) -> list[PnrHit]:
    """Spans of what looks like a person's name (see above)."""
    found = list(_NAME_WORD.finditer(text))
    hits: list[PnrHit] = []
    i = 0
    while i < len(found):
        m = found[i]
        word = m.group()
        if not _capitalised(word):
            i += 1
            continue
        nxt = found[i + 1] if i + 1 < len(found) else None
        paired = (
            nxt is not None
            and _capitalised(nxt.group())
            and text[m.end() : nxt.start()] in (" ", "\u00a0")
        )
        folded = fold_plain(word)
        first_name = folded in names.names
        if (first_name or folded in names.also_words) and paired:
            assert nxt is not None
            hits.append(PnrHit(m.start(), nxt.end()))
            i += 2
        elif first_name:
            hits.append(PnrHit(m.start(), m.end()))
            i += 1
        elif paired and not _sentence_start(text, m.start()):
            assert nxt is not None
            hits.append(PnrHit(m.start(), nxt.end()))
            i += 2
        else:
            i += 1
    return hits


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t\"”'“(-–")
    return not before or before[-1] in ".!?:;\n"


def mask_names(text: str, names: NameList, replacement: str) -> str:
    out, pos = [], 0
    for hit in find_names(text, names):
        out.append(text[pos : hit.start])
        out.append(replacement)
        pos = hit.end
    out.append(text[pos:])
    return "".join(out)
