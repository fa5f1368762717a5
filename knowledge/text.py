"""How search reads text: folded words, the lexicon's phrases, stems.

`Reader.read` turns a question or a topic phrasing into the words the topic model sees:

1. fold (common.text.fold: lower case, no diacritics — "Vårdnadshavare", "vardnadshavare" and
   "VÅRDNADSHAVARE" read alike) and split into words;
2. where a phrase of the lexicon occurs (search.yaml `expansions`, `equivalents`, glossary
   synonyms and term names; matched on whole folded words, up to `MAX_PHRASE` words), append
   the words it stands for ("soc" → "socialtjanst", "report" → "anmala orosanmalan"), and
   leave out English function words (search.yaml `english`: no topic is worded in English);
3. stem every word with the Snowball stemmer for Swedish (PyStemmer):
   "anmälningarna" → "anmalning".

The same reading is used when the model is trained and when a question is searched, so a
synonym works in both directions. Typos and compounds are left to the character n-grams of the
topic model (knowledge.topic_model).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import Stemmer

from common.text import fold

MAX_PHRASE = 6  # the longest lexicon phrase, in words, that is looked for
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The folded words of `text`: 'Vad betyder BUS?' → ['vad', 'betyder', 'bus']."""
    return _WORD.findall(fold(text))


class Reader:
    """Folds, expands and stems text for the topic model (see the module docstring)."""

    def __init__(
        self, expansions: Iterable[tuple[str, Sequence[str]]] = (), ignore: Iterable[str] = ()
    ) -> None:
        self._ignore = frozenset(w for text in ignore for w in words(text))
        # folded phrase (as a tuple of words) → the folded words it adds
        self._phrases: dict[tuple[str, ...], list[str]] = {}
        for phrase, means in expansions:
            key = tuple(words(phrase))
            if not key:
                continue
            added = self._phrases.setdefault(key, [])
            for m in means:
                added.extend(w for w in words(m) if w not in added and w not in key)
        self._longest = min(MAX_PHRASE, max((len(k) for k in self._phrases), default=0))
        self._stemmer = Stemmer.Stemmer("swedish")

    def __getstate__(self) -> dict[str, object]:  # a Stemmer cannot be pickled
        state = dict(self.__dict__)
        del state["_stemmer"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._stemmer = Stemmer.Stemmer("swedish")

    def expand(self, text: str) -> list[str]:
        """The folded words of `text` followed by what its lexicon phrases add, without the
        ignored words (English function words)."""
        ws = words(text)
        added: list[str] = []
        for n in range(1, self._longest + 1):
            for i in range(len(ws) - n + 1):
                found = self._phrases.get(tuple(ws[i : i + n]))
                if found:
                    added.extend(found)
        return [w for w in ws if w not in self._ignore] + added

    def read(self, text: str) -> list[str]:
        """Stemmed words after expansion: what the word features of the model are made of."""
        return list(self._stemmer.stemWords(self.expand(text)))

    def plain(self, text: str) -> str:
        """Folded, expanded words joined by spaces: what the character n-grams are made of."""
        return " ".join(self.expand(text))


def is_english(text: str, english: frozenset[str], swedish: frozenset[str]) -> bool:
    """Whether `text` reads as English: more of its words are common English words than common
    Swedish ones, and at least two are ("can I report anonymously" → True)."""
    ws = words(text)
    en = sum(w in english for w in ws)
    sv = sum(w in swedish for w in ws)
    return en >= 2 and en > sv
