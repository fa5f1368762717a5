"""Forgiving matching of typed school and district names against the registry.

Case, å/ä/ö, small typos, aliases, "skola"/"skolan" and a genitive -s are forgiven; an ambiguous
name is never guessed: the match lists the candidates to choose between.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from common.text import fold_words

MatchKind = Literal["one", "ambiguous", "none"]


@dataclass(frozen=True)
class MatchItem:
    id: str
    name: str
    score: float
    matched: str  # the name or alias that matched best


@dataclass(frozen=True)
class Match:
    """The outcome of matching a typed name.

    kind "one": items[0] is the match. "ambiguous": items are the candidates to choose between,
    best first. "none": items are suggestions ("Menade du …?"), possibly empty.
    """

    kind: MatchKind
    query: str
    items: tuple[MatchItem, ...] = ()

    @property
    def item(self) -> MatchItem | None:
        return self.items[0] if self.kind == "one" else None


@dataclass(frozen=True)
class _Name:
    entity_id: str
    display: str  # the entity's name
    text: str  # the name or alias as written
    key: _Key


# Words that only say what kind of organisation a name is; dropped before comparing.
_STOP_TOKENS = frozenset(
    {
        "stadsdel",
        "stadsdelen",
        "stadsdelsforvaltning",
        "stadsdelsforvaltningen",
        "stadsdelsnamnd",
        "stadsdelsnamnden",
        "stadsdelsomrade",
        "stadsdelsomradet",
        "sdf",
        "kommun",
        "kommunen",
        "socialtjanst",
        "socialtjansten",
        "socialkontor",
        "socialkontoret",
        "forvaltning",
        "forvaltningen",
        "i",
        "pa",
        "the",
    }
)
# School-kind words: kept as a marker token so that "Engelbrektsskolan" and "Engelbrekts
# förskola" stay apart while "Engelbrekt" (no kind given) matches both (and so is ambiguous).
_KIND_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("forskolan", "#forskola"),
    ("forskola", "#forskola"),
    ("skolan", "#skola"),
    ("skola", "#skola"),
)
EXACT, SUBSET, CONTAINED = 100.0, 97.0, 95.0
FUZZY_THRESHOLD = 85.0
FUZZY_MARGIN = 5.0
SUGGEST_THRESHOLD = 60.0


def fold(text: str) -> str:
    """The rapidfuzz processor: lower-case, å/ä/ö → a/a/o (all diacritics), punctuation → space."""
    return fold_words(text)


@dataclass(frozen=True)
class _Key:
    folded: str
    tokens: tuple[str, ...]  # name tokens, genitive -s and kind suffixes removed
    kinds: tuple[str, ...]  # kind markers ("#skola", "#forskola")

    @property
    def compact(self) -> str:
        return "".join(sorted(self.tokens)) + "".join(sorted(self.kinds))


def _key(text: str) -> _Key:
    folded = fold(text)
    tokens: list[str] = []
    kinds: list[str] = []
    for raw in folded.split():
        if raw in _STOP_TOKENS:
            continue
        tok = raw
        for suffix, marker in _KIND_SUFFIXES:
            if tok.endswith(suffix):
                tok = tok[: -len(suffix)]
                kinds.append(marker)
                break
        if len(tok) > 3 and tok.endswith("s"):
            tok = tok[:-1]  # genitive: Engelbrekts → Engelbrekt, Östermalms → Östermalm
        if tok:
            tokens.append(tok)
    if not tokens and not kinds:
        tokens = folded.split()
    return _Key(folded=folded, tokens=tuple(tokens), kinds=tuple(sorted(set(kinds))))


class NameIndex:
    """Names and aliases of one kind of entity, with look-up structures so that a query
    scores only the few names that can matter (rapidfuzz's C extractors pre-select)."""

    def __init__(self, entities: Iterable[tuple[str, str, tuple[str, ...]]]) -> None:
        self.names: list[_Name] = []
        self.by_id: dict[str, list[int]] = {}
        self.ids: dict[str, int] = {}  # exact id → its entity's name
        self.by_folded: dict[str, list[int]] = {}
        self.postings: dict[str, set[int]] = {}
        for entity_id, name, aliases in entities:
            self.ids[entity_id] = len(self.names)
            for text in (name, *aliases):
                idx = len(self.names)
                entry = _Name(entity_id, name, text, _key(text))
                self.names.append(entry)
                self.by_id.setdefault(entity_id.casefold(), []).append(idx)
                self.by_folded.setdefault(entry.key.folded, []).append(idx)
                for tok in entry.key.tokens:
                    self.postings.setdefault(tok, set()).add(idx)
        self.compacts = [n.key.compact for n in self.names]
        self.vocab = list(self.postings)

    def candidates(self, q: _Key, query: str) -> set[int]:
        """Every name that can score a tier or at least SUGGEST_THRESHOLD (a superset)."""
        found: set[int] = set(self.by_id.get(query.casefold(), ()))
        found.update(self.by_folded.get(q.folded, ()))
        for tok in q.tokens:
            found.update(self.postings.get(tok, ()))
        for _value, _score, idx in process.extract(
            q.compact,
            self.compacts,
            scorer=fuzz.ratio,
            score_cutoff=SUGGEST_THRESHOLD,
            limit=None,
        ):
            found.add(idx)
        for tok in q.tokens:
            if len(tok) < 4:
                continue
            for value, _score, _idx in process.extract(
                tok,
                self.vocab,
                scorer=fuzz.ratio,
                score_cutoff=FUZZY_THRESHOLD / 0.98 - 0.01,
                limit=None,
            ):
                found.update(self.postings[value])
        return found


def _kinds_compatible(q: _Key, n: _Key) -> bool:
    return not q.kinds or not n.kinds or set(q.kinds) == set(n.kinds)


def _score(q: _Key, n: _Key) -> tuple[float, int]:
    """(score, tier): tier 3 exact, 2 the query's words are all in the name, 1 the name's words
    are all in the query, 0 fuzzy."""
    if not q.tokens:
        return 0.0, 0
    kinds_ok = _kinds_compatible(q, n)
    if kinds_ok and (q.folded == n.folded or sorted(q.tokens) == sorted(n.tokens)):
        return EXACT, 3
    if kinds_ok and set(q.tokens) < set(n.tokens) and all(len(t) >= 3 for t in q.tokens):
        return SUBSET, 2
    if (
        kinds_ok
        and n.tokens
        and set(n.tokens) < set(q.tokens)
        and all(len(t) >= 4 for t in n.tokens)
    ):
        return CONTAINED, 1
    score = fuzz.ratio(q.compact, n.compact)
    # Each word of the query close to a word of the name: "Haselby" → "Hässelby-Vällingby".
    if kinds_ok and all(len(t) >= 4 for t in q.tokens) and len(q.tokens) <= len(n.tokens):
        per_token = min(max(fuzz.ratio(t, u) for u in n.tokens) for t in q.tokens)
        score = max(score, per_token * 0.98)
    if not kinds_ok:
        score -= 10.0
    return float(score), 0


def match_name(text: str, index: NameIndex) -> Match:
    query = (text or "").strip()
    if not query or not index.names:
        return Match("none", query)
    exact_id = index.ids.get(query)
    if exact_id is not None:
        # An id (as the dialogs pass after the user picked a candidate) is never ambiguous.
        name = index.names[exact_id]
        return Match("one", query, (MatchItem(name.entity_id, name.display, EXACT, name.display),))
    q = _key(query)
    by_id: dict[str, tuple[float, int, _Name]] = {}
    q_id = query.casefold()
    for i in index.candidates(q, query):
        name = index.names[i]
        if q_id == name.entity_id.casefold():
            score, tier = EXACT, 3
        else:
            score, tier = _score(q, name.key)
        best = by_id.get(name.entity_id)
        if best is None or (tier, score) > (best[1], best[0]):
            by_id[name.entity_id] = (score, tier, name)
    if not by_id:
        return Match("none", query)
    ranked = sorted(by_id.values(), key=lambda x: (-x[1], -x[0], x[2].display))

    def item(entry: tuple[float, int, _Name]) -> MatchItem:
        score, _tier, name = entry
        return MatchItem(name.entity_id, name.display, round(score, 1), name.text)

    top_score, top_tier, _ = ranked[0]
    if top_tier > 0:
        same = [e for e in ranked if e[1] == top_tier]
    else:
        same = [
            e
            for e in ranked
            if e[1] == 0 and e[0] >= FUZZY_THRESHOLD and e[0] >= top_score - FUZZY_MARGIN
        ]
    if not same:
        suggestions = [
            e for e in sorted(ranked, key=lambda x: -x[0])[:3] if e[0] >= SUGGEST_THRESHOLD
        ]
        return Match("none", query, tuple(item(e) for e in suggestions))
    if len(same) == 1:
        return Match("one", query, (item(same[0]),))
    return Match("ambiguous", query, tuple(item(e) for e in same))


def suggest(text: str, choices: Mapping[str, str], limit: int = 3) -> list[str]:
    """Close spellings among `choices` (id → text), e.g. for a misspelt field name."""
    hits = process.extract(
        text, choices, scorer=fuzz.ratio, processor=fold, limit=limit, score_cutoff=70
    )
    return [choices[key] for _value, _score, key in hits]
