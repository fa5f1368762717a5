"""Folding text for matching: one definition for the whole product.

`fold` makes what users type comparable with our own words whatever they did with case and
diacritics ("Vårdnadshavare", "VARDNADSHAVARE", "vårdnadshavare" → "vardnadshavare"); staff who
type without å/ä/ö are understood. `fold_words` also turns punctuation into spaces and collapses
whitespace (for comparing answers, names and phrases).
"""

from __future__ import annotations

import re
import unicodedata

# Danish and Norwegian letters that NFKD does not decompose, read as their Swedish twins.
_SCANDINAVIAN = str.maketrans({"æ": "a", "ø": "o"})
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case without diacritics: 'Vårdnadshavare' → 'vardnadshavare'."""
    s = text.casefold().translate(_SCANDINAVIAN)
    if s.isascii():
        return s
    s = unicodedata.normalize("NFKD", s)
    return "".join(ch for ch in s if not unicodedata.combining(ch))


def fold_words(text: str, *, keep: str = "") -> str:
    """`fold`, with every character that is not a letter, digit or one of `keep` made a space,
    and whitespace collapsed: 'Vet inte!' → 'vet inte'; with keep='?': 'Vad?' → 'vad?'."""
    folded = fold(text)
    out = [ch if ch.isalnum() or ch in keep else " " for ch in folded]
    return _SPACE.sub(" ", "".join(out)).strip()


def char_wb_grams(text: str, lo: int, hi: int) -> list[str]:
    """scikit-learn's `char_wb` n-grams (lo ≤ n ≤ hi) of the words of `text`: each word padded
    with a space on both sides; a word shorter than n gives itself once."""
    out: list[str] = []
    for w in text.split():
        w = f" {w} "
        for n in range(lo, hi + 1):
            out.extend(w[i : i + n] for i in range(max(1, len(w) - n + 1)))
            if len(w) <= n:
                break
    return out
