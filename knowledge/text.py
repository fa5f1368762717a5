"""Swedish-aware text analysis for search: folding, stemming, synonyms, compounds, typos.

An `Analyzer` turns text into index *terms* and a question into *concepts*:

- words are lower-cased and split on anything that is not a letter or digit;
- each word is stemmed with the Snowball Swedish stemmer (PyStemmer), folded (å→a, ä→a,
  ö→o, é→e) and reduced to a rough root by stripping a few derivational endings, so "anmäla",
  "anmälan", "anmälde" and "anmälning" share the term "anmal" and "vårdnadshavarna" ~
  "vårdnadshavare"; a question word whose stem the index lacks is tried without common
  inflectional endings and as the beginning of a slightly longer term ("frånvarande" →
  "frånvaro");
- compounds are split into known parts ("orosanmälan" → "oro" + "anmälan",
  "anmälningsskyldighet" → "anmälning" + "skyldighet") against the vocabulary of the index;
- glossary terms, their aliases and synonym groups map to one shared canonical term, so
  "soc" ~ "socialtjänsten" and "EHT" ~ "elevhälsoteam" (matched as written; by stem only for
  phrases and long words, since short words share stems with unrelated ones);
- on the question side only: one-way expansions from the search lexicon (English words and
  everyday phrasings) and typo correction of unknown words against the index vocabulary with
  rapidfuzz.

A concept is one thing the user said (a word or a recognised phrase) with alternative ways of
matching it; search scores a concept by its best alternative, so synonyms never double count.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import Stemmer  # PyStemmer: the Snowball stemmers in C
from rapidfuzz import process, utils
from rapidfuzz.distance import OSA

from common.text import fold

WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Derivational endings stripped after Snowball (which only removes inflection), longest first.
# Each needs a stem of at least `_MIN_ROOT` characters left, so short words stay whole.
_ROOT_SUFFIXES = (
    "ningarna",
    "ningar",
    "ningen",
    "ning",
    "ation",
    "ande",
    "ende",
    "ing",
    "an",
    "er",
    "et",
    "de",
    "te",
    "t",
    "d",
)
_MIN_ROOT = 4

# Inflectional endings tried when a word's stem is not in the index (see Analyzer.known_term).
_INFLECTIONS = ("erna", "arna", "orna", "en", "et", "na", "er", "ar", "or", "n", "t", "a", "e", "s")

# A stem at least this long may match a longer term it begins (see Analyzer._prefix_term).
_MIN_PREFIX = 6

# Single words shorter than this find their synonym group only as written (see _stem_keys);
# a longer word found by its stem must be spelt like a member of the group but for this many
# letters at the end.
_MIN_STEM_SYNONYM = 8
_STEM_SLACK = 2

# Compound splitting: the shortest word that is tried, the shortest part, linking letters.
_MIN_COMPOUND = 7
_MIN_PART = 3
_LINKS = ("s", "")

# An outside-the-field word this long also matches inside a compound (see Analyzer.outside_at).
_MIN_OUTSIDE_PART = 5

# Weight of the alternatives a concept gets besides its own term.
COMPOUND_PART_WEIGHT = 0.6
EXPANSION_WEIGHT = 0.9
CORRECTION_WEIGHT = 0.85


def _prefixes(vocabulary: frozenset[str]) -> frozenset[str]:
    return frozenset(t[:_MIN_PART] for t in vocabulary if len(t) >= _MIN_PART)


def words(text: str) -> list[str]:
    """The words of a text, lower case, with their diacritics."""
    return WORD.findall(unicodedata.normalize("NFC", text.casefold()))


_SENTENCE_END = frozenset(".!?:;\n")


def _names(text: str, n_words: int) -> frozenset[int]:
    """Positions (in `words(text)`) of words written with a capital letter inside a sentence:
    names of places, people or products. All-capital words are abbreviations (BUS, EHT), not
    names; a text written in capitals or with every word capitalised has no names."""
    found = list(WORD.finditer(unicodedata.normalize("NFC", text)))
    if len(found) != n_words:
        return frozenset()
    names: set[int] = set()
    capitalised = 0
    for i, m in enumerate(found):
        w = m.group()
        if not w[0].isupper():
            continue
        capitalised += 1
        if w.isupper() and len(w) > 1:
            continue
        before = text[: m.start()].rstrip()
        if before and before[-1] not in _SENTENCE_END:
            names.add(i)
    if capitalised > max(2, n_words // 2):
        return frozenset()
    return frozenset(names)


@dataclass(frozen=True)
class Alternative:
    """One way to match a concept: every term in `terms` adds to the score, times `weight`."""

    terms: tuple[str, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class Concept:
    """Something the user said (a word or a phrase) and the ways it may be matched."""

    text: str
    alternatives: tuple[Alternative, ...]
    # Whether any alternative's term occurs in the index (unknown words weigh as rare ones).
    known: bool = True
    # A name of a place, person or school that the index does not know ("Täby"): never
    # matched, and weighed less than an unknown word.
    name: bool = False
    # An everyday school word ("lärare", "idag"): it counts only partly towards whether a
    # question is in the bot's field.
    common: bool = False
    # A word or phrase of school life outside the bot's field (search.yaml `outside`).
    outside: bool = False

    @property
    def terms(self) -> frozenset[str]:
        return frozenset(t for alt in self.alternatives for t in alt.terms)


@dataclass(frozen=True)
class Lexicon:
    """Language data for search (knowledge/data/search.yaml plus the glossary)."""

    stopwords: frozenset[str] = frozenset()
    # Groups of words or phrases that mean the same thing (both sides of the search).
    equivalents: tuple[tuple[str, ...], ...] = ()
    # One-way, question side only: a word or phrase → words or phrases to look for instead.
    expansions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Question side only: words and phrases outside the bot's field; they are never matched.
    outside: tuple[str, ...] = ()
    # Question side only: everyday school words (see Concept.common).
    common: tuple[str, ...] = ()


class Analyzer:
    """Text → terms (index side) and question → concepts (query side).

    Built once per index: it holds the stemmer, a cache of analysed words and the tables built
    from the lexicon. `vocabulary` is set by the index after it has seen every document.
    """

    def __init__(
        self,
        lexicon: Lexicon,
        *,
        part_weight: float = COMPOUND_PART_WEIGHT,
        expansion_weight: float = EXPANSION_WEIGHT,
        correction_weight: float = CORRECTION_WEIGHT,
        words_in_use: Iterable[str] = (),
    ) -> None:
        """`words_in_use`: the words of the knowledge base as written (lower case), which
        tell a stopword typed without å/ä/ö from a word of the same letters."""
        words_in_use = frozenset(words_in_use)
        self.part_weight = part_weight
        self.expansion_weight = expansion_weight
        self.correction_weight = correction_weight
        self._stemmer = Stemmer.Stemmer("swedish")
        self._cache: dict[str, str] = {}
        self._folded: dict[str, str] = {}
        self._splits: dict[str, list[str]] = {}  # valid for the current vocabulary
        self._windows: dict[tuple[str, int, int], list[str]] = {}
        self._info: dict[str, tuple[str | None, tuple[str, ...]]] = {}  # for the vocabulary
        self._plain: dict[str, str | None] = {}  # word → term, None for a stopword
        self._prefixes: frozenset[str] = frozenset()
        self._sorted_vocab: list[str] = []
        self.stopwords = frozenset(fold(w) for w in lexicon.stopwords)
        # Without å/ä/ö some stopwords look like other words: "vårt" → "vart" (where to), "bör"
        # → "bor" (lives). Such a form is no stopword when the knowledge base itself uses it.
        written = {unicodedata.normalize("NFC", w.casefold()) for w in lexicon.stopwords}
        self._stop_exact = frozenset(written)
        self._stop_lookalikes = frozenset(
            f for f in (fold(w) for w in written) if f not in written and f in words_in_use
        )
        self.vocabulary: frozenset[str] = frozenset()
        self._surface: dict[tuple[str, int], list[str]] = {}
        # Canonical terms: phrase (its folded words, stopwords left out) → canonical term of its
        # group. Keyed on the words as written, not on stems: "skriven" (registered) and
        # "skriver" (writes) share a stem but not a meaning.
        self._canonical = self._merge_groups(lexicon.equivalents)
        self._stem_members: dict[tuple[str, ...], list[str]] = {}
        self._canonical_stem = self._stem_keys()
        self._max_phrase = max((len(p) for p in self._canonical), default=1)
        self._phrase_starts = frozenset(p[0] for p in self._canonical)
        self._stem_starts = frozenset(p[0] for p in self._canonical_stem)
        # Expansion: the words as written → [(target terms, target's canonical term or None)].
        self._expansions: dict[tuple[str, ...], list[tuple[tuple[str, ...], str | None]]] = {}
        # Expansions are keyed on the folded words as written ("borta från skolan"): stems
        # would let "hemlig" and "hem" or "honor" and "hon" collide.
        for source, targets in lexicon.expansions:
            key = tuple(fold(w) for w in words(source))
            if not key or (len(key) == 1 and key[0] in self.stopwords):
                continue
            outs = [
                (self._phrase(t), self._lookup_canonical(self._surface_key(t), self._phrase(t)))
                for t in targets
                if self._phrase(t)
            ]
            if outs:
                self._expansions.setdefault(key, []).extend(outs)
        self._max_expansion = max((len(p) for p in self._expansions), default=1)
        # Outside the field: phrases as written (folded, stopwords kept); a single word of at
        # least `_MIN_OUTSIDE_PART` letters also matches inside a compound ("betyg" in
        # "betygssättning" and "slutbetyget", "lunch" in "lunchrasten").
        self._outside: frozenset[tuple[str, ...]] = frozenset(
            k for k in (tuple(fold(w) for w in words(o)) for o in lexicon.outside) if k
        )
        self._outside_parts = tuple(
            sorted({k[0] for k in self._outside if len(k) == 1 and len(k[0]) >= _MIN_OUTSIDE_PART})
        )
        self._max_outside = max((len(k) for k in self._outside), default=1)
        self._outside_words: dict[str, bool] = {}  # word → outside the field (cache)
        # Everyday school words: as written (folded) and by term, so inflections count too.
        self._common = frozenset(fold(w) for c in lexicon.common for w in words(c))
        self._common_terms = frozenset(self.term(w) for w in self._common)

    # The C stemmer cannot be pickled (the built index is cached on disk): it is made anew.
    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        del state["_stemmer"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._stemmer = Stemmer.Stemmer("swedish")

    def _stem_keys(self) -> dict[tuple[str, ...], str]:
        """The synonym phrases keyed on stems too, so unlisted inflections ("misshandla")
        find their group. Only phrases and long words: a short word's stem is often another
        word's too ("skriven", registered, and "skriver", writes)."""
        out: dict[tuple[str, ...], str] = {}
        for key, canon in self._canonical.items():
            if len(key) == 1 and len(key[0]) < _MIN_STEM_SYNONYM:
                continue
            stems = tuple(self.term(w) for w in key)
            if out.setdefault(stems, canon) != canon:
                out[stems] = ""  # two groups share the stem: ambiguous
            if len(key) == 1:
                self._stem_members.setdefault(stems, []).append(key[0])
        return {k: v for k, v in out.items() if v}

    def _lookup_canonical(self, folded: Sequence[str], stems: Sequence[str]) -> str | None:
        found = self._canonical.get(tuple(folded))
        if found is not None:
            return found
        found = self._canonical_stem.get(tuple(stems))
        if found is not None and len(folded) == 1:
            # One word found by its stem must also be spelt like a member of the group, but
            # for its ending: "formuleras" shares the stem of "formulär", not its meaning.
            w = folded[0]
            if not any(
                w[: len(m) - _STEM_SLACK] == m[: len(m) - _STEM_SLACK]
                for m in self._stem_members.get(tuple(stems), ())
            ):
                return None
        return found

    def _merge_groups(self, groups: Iterable[Sequence[str]]) -> dict[tuple[str, ...], str]:
        """Phrase → canonical term; groups that share a phrase become one group."""
        parent: dict[tuple[str, ...], tuple[str, ...]] = {}

        def find(x: tuple[str, ...]) -> tuple[str, ...]:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for group in groups:
            phrases = [p for p in (self._surface_key(g) for g in group) if p]
            for p in phrases:
                parent.setdefault(p, p)
            for p in phrases[1:]:
                a, b = find(phrases[0]), find(p)
                if a != b:
                    parent[max(a, b)] = min(a, b)
        members: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for p in parent:
            members.setdefault(find(p), []).append(p)
        canonical: dict[tuple[str, ...], str] = {}
        for root, ps in members.items():
            if len(ps) < 2:
                continue
            for p in ps:
                canonical[p] = "≡" + "_".join(root)
        return canonical

    # --- words and terms -------------------------------------------------------------------

    def term(self, word: str) -> str:
        """The index term of one lower-case word: stemmed, folded, derivational ending off."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        stem = self.fold(self._stemmer.stemWord(word))
        for suffix in _ROOT_SUFFIXES:
            if stem.endswith(suffix) and len(stem) - len(suffix) >= _MIN_ROOT:
                stem = stem[: -len(suffix)]
                break
        if stem in self.stopwords and self.fold(word) not in self.stopwords:
            stem = self.fold(word)  # "väder" must not become "vad"
        self._cache[word] = stem
        return stem

    def known_term(self, word: str) -> str | None:
        """The word's term if the index has it, also when Snowball stems two forms of a word
        differently ("skillnad" → "skilln" but "skillnaden" → "skillnad"); else None."""
        t = self.term(word)
        if t in self.vocabulary:
            return t
        w = fold(word)
        for ending in _INFLECTIONS:
            if w.endswith(ending) and len(w) - len(ending) >= _MIN_ROOT:
                alt = self.term(w[: -len(ending)])
                if alt in self.vocabulary:
                    return alt
        return self._prefix_term(t)

    def _prefix_term(self, t: str) -> str | None:
        """The shortest term of the index that `t` begins, at most three letters longer
        ("franvar" of frånvarande → "franvaro"); None for short or unrelated terms. (Not the
        other way round: a compound's head is no synonym of the compound.)"""
        if len(t) < _MIN_PREFIX:
            return None
        i = bisect.bisect_left(self._sorted_vocab, t)
        best: str | None = None
        while i < len(self._sorted_vocab) and self._sorted_vocab[i].startswith(t):
            cand = self._sorted_vocab[i]
            if len(cand) - len(t) <= 3 and (best is None or len(cand) < len(best)):
                best = cand
            i += 1
        return best

    def fold(self, word: str) -> str:
        """`fold`, cached (the index folds the same words many times)."""
        folded = self._folded.get(word)
        if folded is None:
            folded = self._folded[word] = fold(word)
        return folded

    def is_stopword(self, word: str) -> bool:
        if word in self._stop_exact:
            return True
        folded = self.fold(word)
        return folded in self.stopwords and folded not in self._stop_lookalikes

    def _surface_key(self, text: str) -> tuple[str, ...]:
        """A phrase as its folded words without stopwords: the key of synonym groups."""
        return tuple(self.fold(w) for w in words(text) if not self.is_stopword(w))

    def _phrase(self, text: str, *, keep_stopwords: bool = False) -> tuple[str, ...]:
        ws = words(text)
        content = [w for w in ws if not self.is_stopword(w)]
        if not content and keep_stopwords:
            content = ws
        return tuple(self.term(w) for w in content)

    def content_words(self, text: str) -> list[str]:
        return [w for w in words(text) if not self.is_stopword(w)]

    def split_compound(self, word: str, vocabulary: Iterable[str] | None = None) -> list[str]:
        """Known parts of a compound word (terms), or [] if it does not split.

        Tries every split point with an optional linking 's' and keeps the split whose head is
        longest; the tail may itself be split once more ("barnavårdsutredning").
        """
        if vocabulary is not None:
            vocab = frozenset(vocabulary)
            return self._split(self.fold(word), vocab, _prefixes(vocab), depth=2)
        parts = self._splits.get(word)
        if parts is None:
            parts = self._split(self.fold(word), self.vocabulary, self._prefixes, depth=2)
            self._splits[word] = parts
        return parts

    def _split(
        self, w: str, vocab_set: frozenset[str], prefixes: frozenset[str], depth: int
    ) -> list[str]:
        # A term is (nearly always) a prefix of its word, so a part whose first letters begin
        # no term in the index cannot be one: that check saves stemming every substring.
        if depth == 0 or len(w) < _MIN_COMPOUND:
            return []
        for i in range(len(w) - _MIN_PART, _MIN_PART - 1, -1):
            head, tail = w[:i], w[i:]
            if tail[:_MIN_PART] not in prefixes or head[:_MIN_PART] not in prefixes:
                continue
            for link in _LINKS:
                if link and not head.endswith(link):
                    continue
                h = head[: len(head) - len(link)] if link else head
                if len(h) < _MIN_PART or h in self.stopwords:
                    continue
                h_term = self._part_term(h, vocab_set)
                if h_term is None:
                    continue
                t_term = self.term(tail)
                if (
                    len(tail) > _MIN_PART
                    and t_term in vocab_set
                    and tail not in self.stopwords
                    and t_term not in self.stopwords
                ):
                    return [h_term, t_term]
                rest = self._split(tail, vocab_set, prefixes, depth - 1)
                if rest:
                    return [h_term, *rest]
        return []

    def _part_term(self, part: str, vocab: frozenset[str] | set[str]) -> str | None:
        """A compound's head as a known term ('skol' for skola, 'elevhalso' for elevhälsa)."""
        for cand in (self.term(part), part, part[:-1] if part.endswith(("o", "e", "a")) else ""):
            if len(cand) >= _MIN_PART and cand in vocab and cand not in self.stopwords:
                return cand
        return None

    # --- index side ------------------------------------------------------------------------

    def index_terms(self, text: str) -> list[tuple[str, float]]:
        """Terms of a document text with their weights (1 for words, less for compound parts).

        Canonical synonym terms are added next to the words they stand for.
        """
        folded: list[str] = []
        terms: list[str] = []
        out: list[tuple[str, float]] = []
        parts: list[tuple[str, float]] = []
        for w in words(text):
            term, split = self._word_info(w)
            if term is None:
                continue
            folded.append(self.fold(w))
            terms.append(term)
            out.append((term, 1.0))
            parts.extend((p, COMPOUND_PART_WEIGHT) for p in split)
        out += parts
        out += [(canon, 1.0) for canon, _start, _end in self._find_canonical(folded, terms)]
        return out

    def _word_info(self, word: str) -> tuple[str | None, tuple[str, ...]]:
        """A word's term (None for a stopword) and compound parts, cached per vocabulary."""
        info = self._info.get(word)
        if info is None:
            if self.is_stopword(word):
                info = (None, ())
            else:
                info = (self.term(word), tuple(self.split_compound(word)))
            self._info[word] = info
        return info

    def raw_terms(self, text: str) -> list[str]:
        """Terms without compound parts or synonyms (for the first vocabulary pass)."""
        out: list[str] = []
        for w in words(text):
            t = self._plain.get(w, "")
            if t == "":
                t = self._plain[w] = None if self.is_stopword(w) else self.term(w)
            if t is not None:
                out.append(t)
        return out

    def _find_canonical(
        self, folded: Sequence[str], terms: Sequence[str]
    ) -> list[tuple[str, int, int]]:
        """Synonym phrases in a text's content words (folded, and their terms), longest first,
        as (canonical, start, end)."""
        found: list[tuple[str, int, int]] = []
        i = 0
        while i < len(folded):
            if folded[i] in self._phrase_starts or terms[i] in self._stem_starts:
                for n in range(min(self._max_phrase, len(folded) - i), 0, -1):
                    canon = self._lookup_canonical(folded[i : i + n], terms[i : i + n])
                    if canon is not None:
                        found.append((canon, i, i + n))
                        i += n
                        break
                else:
                    i += 1
            else:
                i += 1
        return found

    def set_vocabulary(self, vocabulary: Iterable[str], surface: Mapping[str, int]) -> None:
        """The index's terms, and its surface words with frequencies (for typos).

        The words are normalised once here (folded, then rapidfuzz's `default_process`) and
        bucketed by first letter and length, so a correction only looks at plausible neighbours.
        """
        self.vocabulary = frozenset(vocabulary)
        self._sorted_vocab = sorted(t for t in self.vocabulary if not t.startswith("≡"))
        self._prefixes = _prefixes(self.vocabulary)
        self._splits = {}
        self._windows = {}
        self._info = {}
        folded: Counter[str] = Counter()
        for word, freq in surface.items():
            folded[utils.default_process(self.fold(word))] += freq
        buckets: dict[tuple[str, int], list[tuple[int, str]]] = {}
        for word, freq in folded.items():
            if len(word) >= 4:
                buckets.setdefault((word[0], len(word)), []).append((-freq, word))
        self._surface = {k: [w for _f, w in sorted(ws)] for k, ws in buckets.items()}

    def _candidates(self, first: str, length: int, max_dist: int) -> list[str]:
        """Index words starting with `first` whose length is within `max_dist` of `length`,
        most frequent first (typos in the first letter are rare; this keeps the search small
        in a large knowledge base)."""
        key = (first, length, max_dist)
        found = self._windows.get(key)
        if found is None:
            found = [
                w
                for n in range(length - max_dist, length + max_dist + 1)
                for w in self._surface.get((first, n), ())
            ]
            self._windows[key] = found
        return found

    # --- query side -------------------------------------------------------------------------

    def correct(self, word: str) -> str | None:
        """The index word closest to an unknown word (a typo), or None.

        One edit (insert, delete, substitute or swap two letters) for words of six to nine
        letters, two for longer words; shorter words are never corrected (too many neighbours).
        """
        w = utils.default_process(self.fold(word))
        if len(w) < 6 or " " in w:
            return None
        max_dist = 1 if len(w) <= 9 else 2
        choices = self._candidates(w[0], len(w), max_dist)
        if not choices:
            return None
        # rapidfuzz 3 compares strings as given: the processor normalises both sides (the
        # candidates were also normalised once in set_vocabulary, so bucketing by first letter
        # and length agrees with what is compared).
        best = process.extractOne(
            w,
            choices,
            scorer=OSA.distance,
            processor=utils.default_process,
            score_cutoff=max_dist,
        )
        return None if best is None else str(best[0])

    def concepts(self, question: str) -> list[Concept]:
        """The concepts of a question (stopwords and names dropped)."""
        return self._concepts(question, correct=True)

    def _concepts(self, question: str, *, correct: bool) -> list[Concept]:
        ws = words(question)
        names = _names(question, len(ws))
        concepts: list[Concept] = []
        i = 0
        while i < len(ws):
            step = self._outside_at(ws, i)
            if step:
                # Never matched, and weighs as an unknown word: the question is about something
                # else ("Hur anmäler jag mig till kursen?", "betygen", "lunchen").
                concepts.append(Concept(" ".join(ws[i : i + step]), (), known=False, outside=True))
                i += step
                continue
            if i in names and self._is_unknown_word(ws[i]):
                # A place, a person or a school ("bor i Täby"): tells little about the topic.
                concepts.append(Concept(ws[i], (), known=False, name=True))
                i += 1
                continue
            step, concept = self._expansion_at(ws, i)
            if concept is None:
                step, concept = self._canonical_at(ws, i)
            if concept is None:
                step = 1
                if not self.is_stopword(ws[i]):
                    concept = self._word_concept(ws[i], correct=correct)
            if concept is not None:
                concepts.append(concept)
            i += step
        return concepts

    def _outside_at(self, ws: Sequence[str], i: int) -> int:
        """How many words from `i` on are an outside-the-field phrase (0: none)."""
        if not self._outside:
            return 0
        for n in range(min(self._max_outside, len(ws) - i), 1, -1):
            if tuple(self.fold(w) for w in ws[i : i + n]) in self._outside:
                return n
        return 1 if self._outside_word(ws[i]) else 0

    def _outside_word(self, word: str) -> bool:
        found = self._outside_words.get(word)
        if found is None:
            w = self.fold(word)
            found = (w,) in self._outside or (
                len(w) > _MIN_OUTSIDE_PART and any(part in w for part in self._outside_parts)
            )
            self._outside_words[word] = found
        return found

    def _is_unknown_word(self, word: str) -> bool:
        """Whether the index knows nothing of a word: no term, synonym, expansion, part or
        near spelling."""
        if self.is_stopword(word) or self.known_term(word) is not None:
            return False
        key = (self.fold(word),)
        if key in self._expansions or self._lookup_canonical(key, (self.term(word),)):
            return False
        return not self.split_compound(word) and self.correct(word) is None

    def _expansion_at(self, ws: Sequence[str], i: int) -> tuple[int, Concept | None]:
        for n in range(min(self._max_expansion, len(ws) - i), 0, -1):
            span = ws[i : i + n]
            targets = self._expansions.get(tuple(self.fold(w) for w in span))
            if targets is None:
                continue
            content = [w for w in span if not self.is_stopword(w)] or list(span)
            alts = self._known_alternatives(content)
            own_canon = self._lookup_canonical(
                [self.fold(w) for w in content], [self.term(w) for w in content]
            )
            if own_canon is not None:
                alts.append(Alternative((own_canon,)))
            for t, canon in targets:
                alts.append(Alternative(t, self.expansion_weight))
                if canon is not None:
                    alts.append(Alternative((canon,), self.expansion_weight))
            return n, self._concept(" ".join(span), alts)
        return 1, None

    def _canonical_at(self, ws: Sequence[str], i: int) -> tuple[int, Concept | None]:
        if self.is_stopword(ws[i]):
            return 1, None
        # Look ahead over stopwords inside a phrase ("anmälan om oro").
        content: list[tuple[int, str]] = []
        j = i
        while j < len(ws) and len(content) < self._max_phrase:
            if not self.is_stopword(ws[j]):
                content.append((j, ws[j]))
            j += 1
        for n in range(len(content), 0, -1):
            canon = self._lookup_canonical(
                [self.fold(w) for _j, w in content[:n]], [self.term(w) for _j, w in content[:n]]
            )
            if canon is None:
                continue
            end = content[n - 1][0] + 1
            span = [w for _j, w in content[:n]]
            own = tuple(self.known_term(w) or self.term(w) for w in span)
            alts = [Alternative(own), Alternative((canon,))]
            if n == 1:
                parts = self.split_compound(span[0])
                if parts:
                    alts.append(Alternative(tuple(parts), self.part_weight))
            return end - i, self._concept(" ".join(ws[i:end]), alts)
        return 1, None

    def _known_alternatives(self, content: Sequence[str]) -> list[Alternative]:
        key = tuple(self.term(w) for w in content)
        if all(t in self.vocabulary for t in key):
            return [Alternative(key)]
        return []

    def _word_concept(self, word: str, *, correct: bool = True) -> Concept:
        t = self.known_term(word) or self.term(word)
        alts: list[Alternative] = [Alternative((t,))]
        parts = self.split_compound(word)
        if parts:
            alts.append(Alternative(tuple(parts), self.part_weight))
        if correct and t not in self.vocabulary and not parts:
            fixed = self.correct(word)
            if fixed is not None:
                # The corrected word is analysed like any other (synonyms, compound parts), but
                # not corrected again: a correction can be the word itself in another form
                # ("darfor" → "darfor"), and correcting that again never ends.
                for c in self._concepts(fixed, correct=False):
                    for alt in c.alternatives:
                        alts.append(Alternative(alt.terms, alt.weight * self.correction_weight))
        return self._concept(word, alts)

    def _concept(self, text: str, alts: Sequence[Alternative]) -> Concept:
        known = any(t in self.vocabulary for alt in alts for t in alt.terms)
        content = [w for w in words(text) if not self.is_stopword(w)]
        common = bool(content) and all(
            self.fold(w) in self._common or self.term(w) in self._common_terms for w in content
        )
        return Concept(text, tuple(alts), known=known, common=common)
