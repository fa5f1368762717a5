"""Search over the knowledge base: which topic answers a staff question, and how sure we are.

The index is built once (`SearchIndex.build`) from every version of every topic and the
glossary, and shared by the bot and the CLI. What the user said is analysed into concepts
(knowledge.text), each weighted by its IDF over the topics' core fields (title, examples,
keywords, glossary entries: the words that tell topics apart); a word the index has never seen
weighs as a rare one. Ranking:

1. BM25 over one weighted bag of terms per topic version (title, example phrasings and keywords
   weigh most, then glossary entries for the topic, the answer, details and what changed), with
   the precomputed contribution of every (term, topic) pair in numpy postings;
2. the best example phrasing (or the title) compared with the question, as IDF-weighted overlap
   of what the user said: a question worded like an example is strong evidence;
3. coverage: how much of what the user said the topic's core fields match, and its whole text;
4. rapidfuzz's token_set_ratio between the question and the closest phrasing (a small share).

Together they make a confidence in [0, 1]. A question must be covered well enough to be in the
bot's field at all ("Vad blir det för lunch?" matches nothing and is declined, however its
nearest topic ranks) and at least half covered to be answered; then the confidence and the
margin to the next topic decide between answering, suggesting the closest topics ("Menade
du…?") and declining. A vague question (only common words, such as "anmälan") needs a clear
winner to be answered.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from knowledge.loader import KnowledgeBase
from knowledge.model import Term, Topic
from knowledge.text import Analyzer, Concept, Lexicon, fold, words

Decision = Literal["answer", "suggest", "decline"]

FULL_SCORER = fuzz.token_sort_ratio


@dataclass(frozen=True)
class Hit:
    topic_id: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    question: str
    decision: Decision
    topic: str | None  # set only when decision == "answer"
    score: float  # score of the best topic
    alternatives: list[Hit] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The shape of `samverkan ask --json` (shared/spec/contracts.md)."""
        return {
            "question": self.question,
            "topic": self.topic,
            "score": round(self.score, 4),
            "alternatives": [
                {"topic": h.topic_id, "score": round(h.score, 4)} for h in self.alternatives
            ],
        }


@dataclass(frozen=True)
class Tuning:
    """Weights and thresholds of the ranking and the decision (benchmarks may vary them)."""

    # Field weights of the topic text.
    title: float = 3.0
    examples: float = 2.0
    keywords: float = 2.5
    glossary: float = 1.5
    answer: float = 1.0
    details: float = 0.5
    changed: float = 0.3
    # BM25.
    k1: float = 1.2
    b: float = 0.5
    # Confidence = weighted sum of these parts (each in [0, 1]; the weights add up to ≤ 1).
    w_core: float = 0.05  # coverage by title, examples, keywords and glossary entries
    w_coverage: float = 0.05  # coverage by the whole topic text
    w_example: float = 0.05
    w_bm25: float = 0.30
    w_fuzzy: float = 0.10  # character-level likeness to the closest phrasing (content words)
    w_fuzzy_full: float = 0.30  # the same over all the words, question words included
    w_knn: float = 0.20  # mean likeness of the `knn` closest phrasings (title and examples)
    knn: int = 3
    # An unknown word weighs like a term found in this many topics; an unknown name ("Täby",
    # "Engelbrektsskolan") this much.
    unknown_df: float = 0.5
    name_weight: float = 1.5
    # How much an everyday school word (search.yaml `common`) counts towards coverage.
    common_credit: float = 0.3
    # What the user said is weighted by IDF over the topics' core fields (title, examples,
    # keywords, glossary): words that tell topics apart. A word found only in topic bodies
    # weighs its body IDF times this.
    core_idf: bool = True
    body_factor: float = 0.7
    # Query side: how much a compound's parts, an expansion and a typo correction count.
    part_weight: float = 0.6
    expansion_weight: float = 0.9
    correction_weight: float = 0.85
    # Decision.
    min_coverage: float = 0.30  # below: outside the bot's field, whatever the score
    answer_coverage: float = 0.40  # below: never answered, at most suggested
    answer_at: float = 0.46  # answer if at least this and the margin holds …
    sure_at: float = 0.60  # … or at least this, whatever the margin
    margin: float = 0.01
    suggest_at: float = 0.25  # below: decline; between this and answering: "Menade du…?"
    # A question whose words together weigh less than this (or one word under the second
    # figure) is vague: it is answered only with this margin to the next topic.
    vague_weight: float = 1.0
    vague_single_weight: float = 2.0
    vague_margin: float = 0.05
    exact_phrasing: float = 0.9  # phrasing likeness that makes a question not vague
    candidates: int = 25  # topics re-ranked with the example phrasings
    fuzzy_candidates: int = 15  # the best of them also compared character by character


@dataclass(frozen=True)
class _Doc:
    topic_id: str
    valid_from: date | None
    valid_until: date | None
    # Title and example phrasings: their terms and IDF mass.
    phrasings: tuple[frozenset[str], ...]
    phrasing_mass: tuple[float, ...]
    # Terms of the fields that say what the topic is about (title, examples, keywords, glossary).
    core: frozenset[str]
    # Title and examples as folded text (character-level similarity): content words only,
    # and all words.
    texts: tuple[str, ...] = ()
    full_texts: tuple[str, ...] = ()

    def valid_on(self, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        return not (self.valid_until is not None and day >= self.valid_until)


@dataclass(frozen=True)
class _Scored:
    topic_id: str
    score: float
    coverage: float
    # The parts of the score (for benchmarks and debugging).
    core: float = 0.0
    example: float = 0.0
    bm25: float = 0.0
    fuzzy: float = 0.0
    knn: float = 0.0
    fuzzy_full: float = 0.0


class SearchIndex:
    """An inverted index over the topics; built once, read-only afterwards."""

    def __init__(
        self,
        analyzer: Analyzer,
        docs: list[_Doc],
        postings: dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]],
        idf: dict[str, float],
        unknown_idf: float,
        glossary: list[Term],
        definition_cues: list[tuple[str, ...]],
        tuning: Tuning,
    ) -> None:
        self._analyzer = analyzer
        self._docs = docs
        self._postings = postings
        self._idf = idf
        self._unknown_idf = unknown_idf
        # Every name of every glossary term (term, aliases, long form) as folded words.
        self._glossary_names = [
            ([fold(w) for w in words(name)], term)
            for term in glossary
            for name in [term.term, *term.aliases, *([term.long] if term.long else [])]
        ]
        self._cues = definition_cues
        self.tuning = tuning
        # Every phrasing (title and examples) of every topic version, in document order: which
        # document it belongs to, its IDF mass, and term → phrasings postings, so that a
        # question is compared with all phrasings of the pooled topics in a few numpy steps.
        ph_doc: list[int] = []
        ph_mass: list[float] = []
        ph_post: dict[str, list[int]] = {}
        self._ph_start = np.zeros(len(docs) + 1, dtype=np.int64)
        for d, doc in enumerate(docs):
            self._ph_start[d] = len(ph_doc)
            for terms, mass in zip(doc.phrasings, doc.phrasing_mass, strict=True):
                for t in terms:
                    ph_post.setdefault(t, []).append(len(ph_doc))
                ph_doc.append(d)
                ph_mass.append(mass)
        self._ph_start[len(docs)] = len(ph_doc)
        self._ph_mass = np.array(ph_mass, dtype=np.float64)
        self._ph_post = {t: np.array(ids, dtype=np.int64) for t, ids in ph_post.items()}
        # Validity of every topic version as day ordinals, for one vectorised check per query.
        self._from = np.array(
            [d.valid_from.toordinal() if d.valid_from else 0 for d in docs], dtype=np.int64
        )
        self._until = np.array(
            [d.valid_until.toordinal() if d.valid_until else 2**62 for d in docs], dtype=np.int64
        )

    # --- building ----------------------------------------------------------------------------

    @classmethod
    def build(cls, kb: KnowledgeBase, tuning: Tuning | None = None) -> SearchIndex:
        tuning = tuning or Tuning()
        by_topic: dict[str, list[Term]] = {}
        for term in kb.glossary.terms:
            if term.topic is not None:
                by_topic.setdefault(term.topic, []).append(term)
        fields = [_fields(t, by_topic.get(t.id, []), tuning) for t in kb.topics]
        analyzer = Analyzer(
            _lexicon(kb),
            part_weight=tuning.part_weight,
            expansion_weight=tuning.expansion_weight,
            correction_weight=tuning.correction_weight,
            words_in_use={w for doc in fields for text, _w in doc for w in words(text)},
        )

        # Pass 1: the plain vocabulary, which compound splitting needs.
        vocab0: set[str] = set()
        for doc_fields in fields:
            for text, _w in doc_fields:
                vocab0.update(analyzer.raw_terms(text))
        for term in kb.glossary.terms:
            vocab0.update(analyzer.raw_terms(_term_text(term)))
        analyzer.set_vocabulary(vocab0, {})

        # Pass 2: weighted term frequencies per topic version. Texts repeat (titles and
        # examples are read again below; versions share wording), so each is analysed once.
        analysed: dict[str, list[tuple[str, float]]] = {}

        def terms_of(text: str) -> list[tuple[str, float]]:
            found = analysed.get(text)
            if found is None:
                found = analysed[text] = analyzer.index_terms(text)
            return found

        tfs: list[dict[str, float]] = []
        lengths: list[float] = []
        surface: Counter[str] = Counter()
        for doc_fields in fields:
            tf: defaultdict[str, float] = defaultdict(float)
            length = 0.0
            for text, weight in doc_fields:
                for term_, w in terms_of(text):
                    tf[term_] += weight * w
                content = analyzer.content_words(text)
                length += weight * len(content)
                surface.update(content)
            tfs.append(tf)
            lengths.append(length)

        n = len(tfs)
        df: Counter[str] = Counter()
        for doc_tf in tfs:
            df.update(doc_tf.keys())
        idf = {t: _idf(n, d) for t, d in df.items()}
        avgdl = (sum(lengths) / n) if n else 1.0
        lists: dict[str, tuple[list[int], list[float]]] = {}
        k1, b = tuning.k1, tuning.b
        for i, doc_tf in enumerate(tfs):
            norm = k1 * (1 - b + b * lengths[i] / avgdl)
            for term_, f in doc_tf.items():
                ids, contribs = lists.setdefault(term_, ([], []))
                ids.append(i)
                contribs.append(idf[term_] * f * (k1 + 1) / (f + norm))
        postings = {
            t: (np.array(ids, dtype=np.int32), np.array(contribs, dtype=np.float64))
            for t, (ids, contribs) in lists.items()
        }

        # Core fields and phrasings per topic version.
        cores: list[frozenset[str]] = []
        phrasings: list[list[tuple[frozenset[str], set[str]]]] = []
        for topic in kb.topics:
            core = {
                t
                for text in [*topic.keywords, *(_term_text(g) for g in by_topic.get(topic.id, []))]
                for t, _w in terms_of(text)
            }
            sets = [
                (frozenset(t for t, _w in terms_of(p)), set(analyzer.raw_terms(p)))
                for p in [topic.title, *topic.examples]
            ]
            core.update(*(terms for terms, _raw in sets))
            cores.append(frozenset(core))
            phrasings.append(sets)
        analyzer.set_vocabulary(postings.keys(), surface)

        # How much a word the user says weighs (see Tuning.core_idf).
        weight_idf = dict(idf)
        if tuning.core_idf:
            df_core: Counter[str] = Counter()
            for core_terms in cores:
                df_core.update(core_terms)
            weight_idf = {
                t: _idf(n, df_core[t]) if t in df_core else v * tuning.body_factor
                for t, v in idf.items()
            }
        docs = [
            _Doc(
                topic.id,
                topic.valid_from,
                topic.valid_until,
                tuple(terms for terms, _raw in sets),
                tuple(sum(weight_idf.get(t, 0.0) for t in raw) or 1.0 for _terms, raw in sets),
                core,
                tuple(
                    " ".join(analyzer.fold(w) for w in analyzer.content_words(p))
                    for p in [topic.title, *topic.examples]
                ),
                tuple(
                    " ".join(analyzer.fold(w) for w in words(p))
                    for p in [topic.title, *topic.examples]
                ),
            )
            for topic, core, sets in zip(kb.topics, cores, phrasings, strict=True)
        ]
        cues = [tuple(fold(w) for w in words(c)) for c in kb.lexicon.definition_cues]
        return cls(
            analyzer,
            docs,
            postings,
            weight_idf,
            _idf(n, tuning.unknown_df),
            list(kb.glossary.terms),
            [c for c in cues if c],
            tuning,
        )

    # --- searching ---------------------------------------------------------------------------

    def search(self, question: str, *, day: date, limit: int = 3) -> SearchResult:
        """Rank the topics valid on `day` for a question and decide what to do with it."""
        tuning = self.tuning
        ranked, n_concepts, information = self._rank_query(question, day)
        if not ranked:
            return SearchResult(question, "decline", None, 0.0, [])
        best = ranked[0]
        others = ranked[1:]
        second = others[0].score if others else 0.0
        limit = max(1, limit)
        in_field = best.coverage >= tuning.min_coverage
        # A vague question (one common word such as "anmälan", or only such words) needs a
        # clear winner; otherwise the closest topics are offered.
        vague = information < tuning.vague_weight or (
            n_concepts == 1 and information < tuning.vague_single_weight
        )
        # Worded (nearly) like one of the topic's own phrasings: not vague, whatever its words.
        worded_like = best.example >= tuning.exact_phrasing
        vague = vague and not worded_like
        margin = tuning.vague_margin if vague else tuning.margin
        if information < tuning.vague_weight and not worded_like:
            margin = 2.0  # nothing distinctive at all: never answer, at most suggest
        if in_field and best.coverage >= tuning.answer_coverage and (
            (best.score >= tuning.sure_at and not vague)
            or (best.score >= tuning.answer_at and best.score - second >= margin)
        ):
            alts = [Hit(s.topic_id, s.score) for s in others[: limit - 1] if s.score > 0]
            return SearchResult(question, "answer", best.topic_id, best.score, alts)
        if in_field and best.score >= tuning.suggest_at:
            close = [s for s in ranked[: max(2, limit)] if s.score >= tuning.suggest_at]
            return SearchResult(
                question, "suggest", None, best.score, [Hit(s.topic_id, s.score) for s in close]
            )
        return SearchResult(question, "decline", None, best.score, [])

    def term_count(self) -> int:
        """How many distinct terms the index holds (for benchmarks)."""
        return len(self._postings)

    def rank(self, question: str, *, day: date, limit: int = 10) -> list[Hit]:
        """The best topics with their confidence, before any decision (for tools and tests)."""
        return [Hit(s.topic_id, s.score) for s in self._rank(question, day)[:limit]]

    def _weight(self, concept: Concept) -> float:
        """How much a concept weighs: the IDF of what it means.

        A word in a synonym group weighs as its group ("idag" as "i dag"; a phrase such as "få
        reda på" as its group, not as its rarest word); otherwise as its best alternative, a
        phrase of several terms as their mean. A word the index has never seen (even if its
        compound parts or a correction are known) weighs as a rare word."""
        if concept.name:
            return self.tuning.name_weight
        alts = concept.alternatives
        own = alts[0].terms if alts else ()
        canon = [
            self._idf[t] * min(1.0, a.weight)
            for a in alts
            for t in a.terms
            if t.startswith("≡") and t in self._idf
        ]
        if canon and concept.known:
            single = self._idf.get(own[0]) if len(own) == 1 else None
            return max(max(canon), single or 0.0)
        if not concept.known or not any(t in self._idf for t in own):
            return self._unknown_idf
        best = 0.0
        for alt in alts:
            idfs = [self._idf[t] for t in alt.terms if t in self._idf]
            if len(idfs) == len(alt.terms) and idfs:
                best = max(best, sum(idfs) / len(idfs) * min(1.0, alt.weight))
        return best or self._unknown_idf

    def _rank(self, question: str, day: date) -> list[_Scored]:
        return self._rank_query(question, day)[0]

    def _rank_query(self, question: str, day: date) -> tuple[list[_Scored], int, float]:
        """Ranked topics, the number of concepts in the question and their total weight."""
        tuning = self.tuning
        concepts = self._analyzer.concepts(question)
        if not concepts:
            return [], 0, 0.0
        weights = [self._weight(c) for c in concepts]
        total_weight = sum(weights)
        # Coverage counts everyday school words only partly, on both sides of the fraction; a
        # question made of nothing else is hardly in the field.
        field_weight = sum(
            w * (tuning.common_credit if c.common else 1.0)
            for c, w in zip(concepts, weights, strict=True)
        )
        if all(c.common for c in concepts):
            field_weight /= tuning.common_credit
        n = len(self._docs)
        today = day.toordinal()
        valid = (self._from <= today) & (today < self._until)
        totals = np.zeros(n)
        matched = np.zeros(n)
        for concept, weight in zip(concepts, weights, strict=True):
            best = np.zeros(n)
            credit = np.zeros(n)  # how fully the concept is matched (0..1)
            for alt in concept.alternatives:
                acc = np.zeros(n)
                hits = np.zeros(n, dtype=np.int32)
                for t in alt.terms:
                    posting = self._postings.get(t)
                    if posting is not None:
                        acc[posting[0]] += posting[1]
                        hits[posting[0]] += 1
                np.maximum(best, acc * alt.weight, out=best)
                full = min(1.0, alt.weight)
                np.maximum(credit, np.where(hits == len(alt.terms), full, 0.0), out=credit)
            totals += best
            # An everyday school word ("lärare", "idag") helps ranking but says little about
            # whether the question is in the bot's field at all.
            matched += weight * credit * (tuning.common_credit if concept.common else 1.0)
        totals *= valid
        if not totals.any():
            return [], len(concepts), total_weight

        bm25_max = total_weight * (tuning.k1 + 1)
        k = min(tuning.candidates, int(np.count_nonzero(totals)))
        top = np.argpartition(-totals, k - 1)[:k]
        pool = [int(d) for d in top[np.argsort(-totals[top], kind="stable")]]
        alts = [
            [(frozenset(a.terms), min(1.0, a.weight)) for a in c.alternatives] for c in concepts
        ]
        scored: dict[str, _Scored] = {}
        fuzzy_of, fuzzy_full_of = self._fuzzy(question, pool)
        likeness = self._phrasing_likeness(alts, weights, total_weight)
        for doc_id in pool:
            doc = self._docs[doc_id]
            coverage = float(matched[doc_id]) / field_weight if field_weight else 0.0
            core = _overlap(alts, weights, doc.core) / total_weight
            sims = likeness[self._ph_start[doc_id] : self._ph_start[doc_id + 1]]
            k = min(tuning.knn, len(sims))
            nearest: npt.NDArray[np.float64] = -np.sort(-sims)[:k]
            example = float(nearest[0]) if len(nearest) else 0.0
            knn = float(nearest.sum()) / tuning.knn
            bm25 = min(1.0, float(totals[doc_id]) / bm25_max)
            fuzzy = fuzzy_of.get(doc_id, 0.0)
            fuzzy_full = fuzzy_full_of.get(doc_id, 0.0)
            score = (
                tuning.w_core * core
                + tuning.w_coverage * coverage
                + tuning.w_example * min(1.0, example)
                + tuning.w_bm25 * bm25
                + tuning.w_fuzzy * fuzzy
                + tuning.w_fuzzy_full * fuzzy_full
                + tuning.w_knn * knn
            )
            prev = scored.get(doc.topic_id)
            if prev is None or score > prev.score:
                scored[doc.topic_id] = _Scored(
                    doc.topic_id,
                    min(1.0, score),
                    coverage,
                    core,
                    example,
                    bm25,
                    fuzzy,
                    knn,
                    fuzzy_full,
                )
        ranked = sorted(scored.values(), key=lambda s: (-s.score, s.topic_id))
        return ranked, len(concepts), total_weight

    def _phrasing_likeness(
        self,
        alts: list[list[tuple[frozenset[str], float]]],
        weights: list[float],
        total_weight: float,
    ) -> npt.NDArray[np.float64]:
        """How much each phrasing is like the question (0..1): the IDF mass of the concepts it
        matches (a concept through its best alternative, all of whose terms it must contain),
        over the geometric mean of the question's and the phrasing's mass."""
        n = len(self._ph_mass)
        hit = np.zeros(n)
        for concept_alts, weight in zip(alts, weights, strict=True):
            best: npt.NDArray[np.float64] | None = None
            for terms, strength in concept_alts:
                ids: npt.NDArray[np.int64] | None = None
                for t in terms:
                    post = self._ph_post.get(t)
                    if post is None:
                        ids = None
                        break
                    ids = post if ids is None else np.intersect1d(ids, post, assume_unique=True)
                if ids is None or not len(ids):
                    continue
                if best is None:
                    best = np.zeros(n)
                best[ids] = np.maximum(best[ids], strength)
            if best is not None:
                hit += weight * best
        denom = np.sqrt(total_weight * np.maximum(self._ph_mass, hit))
        return np.minimum(1.0, np.divide(hit, denom, out=np.zeros(n), where=hit > 0))

    def _fuzzy(
        self, question: str, pool: list[int]
    ) -> tuple[dict[int, float], dict[int, float]]:
        """Character-level likeness (0..1) of the question to each pooled topic's closest
        phrasing: rapidfuzz token_set_ratio over the folded content words ("skickar in" ~
        "skicka in"), and over all the words, so that the form of a question counts too ("vad
        gör socialtjänsten …" ~ "vad gör soc …"); each in one call over all phrasings."""
        a = self._analyzer
        pool = pool[: self.tuning.fuzzy_candidates]
        sizes = [len(self._docs[d].texts) for d in pool]
        if not pool or not sum(sizes):
            return {}, {}
        starts = np.cumsum([0, *sizes[:-1]])
        out: list[dict[int, float]] = []
        for q, texts in (
            (
                " ".join(a.fold(w) for w in a.content_words(question)),
                [t for d in pool for t in self._docs[d].texts],
            ),
            (
                " ".join(a.fold(w) for w in words(question)),
                [t for d in pool for t in self._docs[d].full_texts],
            ),
        ):
            if not q:
                out.append({})
                continue
            ratios = process.cdist([q], texts, scorer=fuzz.token_set_ratio, processor=None)[0]
            best = np.maximum.reduceat(ratios, starts) / 100
            out.append({d: float(b) for d, b in zip(pool, best, strict=True)})
        return out[0], out[1]

    # --- glossary ----------------------------------------------------------------------------

    def explain_term(self, text: str) -> Term | None:
        """The glossary term a "vad betyder BUS?"-style question asks about, else None.

        The question must name a term (or one of its aliases or its long form) and say nothing
        else than the term and, perhaps, a cue such as "vad betyder" or "står för".
        """
        ws = [fold(w) for w in words(text)]
        if not ws:
            return None
        best: tuple[int, Term, int, int] | None = None
        for phrase, term in self._glossary_names:
            span = _find(ws, phrase)
            if span is not None and (best is None or len(phrase) > best[0]):
                best = (len(phrase), term, span[0], span[1])
        if best is None:
            return None
        _n, term, start, end = best
        rest = ws[:start] + ws[end:]
        leftover = [w for w in rest if not self._analyzer.is_stopword(w)]
        cue_words = {w for c in self._cues for w in c}
        leftover = [w for w in leftover if w not in cue_words]
        # Only the term (and a cue such as "vad betyder"): "Vad innebär barnkonventionen för
        # skolan?" asks more than what the word means and goes to search.
        return term if not leftover else None


def _overlap(
    alts: list[list[tuple[frozenset[str], float]]], weights: list[float], terms: frozenset[str]
) -> float:
    """IDF mass of the concepts a term set matches; a concept matches through an alternative
    all of whose terms are in the set (a compound's parts only together)."""
    total = 0.0
    for concept_alts, weight in zip(alts, weights, strict=True):
        best = 0.0
        for alt_terms, strength in concept_alts:
            if strength > best and alt_terms <= terms:
                best = strength
        total += weight * best
    return total


def _find(seq: list[str], phrase: list[str]) -> tuple[int, int] | None:
    n = len(phrase)
    if n == 0:
        return None
    for i in range(len(seq) - n + 1):
        if seq[i : i + n] == phrase:
            return i, i + n
    return None


def _idf(n: int, df: float) -> float:
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def _term_text(term: Term) -> str:
    return " ".join([term.term, term.long or "", *term.aliases, term.explanation])


def _fields(topic: Topic, terms: Iterable[Term], tuning: Tuning) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = [(topic.title, tuning.title), (topic.answer, tuning.answer)]
    out += [(e, tuning.examples) for e in topic.examples]
    out += [(k, tuning.keywords) for k in topic.keywords]
    if topic.details:
        out.append((topic.details, tuning.details))
    if topic.changed:
        out.append((topic.changed, tuning.changed))
    out += [(_term_text(t), tuning.glossary) for t in terms]
    return out


def _lexicon(kb: KnowledgeBase) -> Lexicon:
    groups: list[tuple[str, ...]] = [tuple(g) for g in kb.glossary.synonyms]
    for term in kb.glossary.terms:
        names = [term.term, *(t for t in [term.long] if t), *term.aliases]
        if len(names) >= 2:
            groups.append(tuple(names))
    groups += [tuple(g) for g in kb.lexicon.equivalents]
    expansions = [
        (word, tuple(e.means)) for e in kb.lexicon.expansions for word in e.words
    ]
    return Lexicon(
        stopwords=frozenset(kb.lexicon.stopwords),
        equivalents=tuple(groups),
        expansions=tuple(expansions),
        outside=tuple(kb.lexicon.outside),
        common=tuple(kb.lexicon.common),
    )
