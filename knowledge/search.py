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

import hashlib
import logging
import math
import os
import pickle
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from knowledge.loader import KnowledgeBase
from knowledge.model import Term, Topic
from knowledge.text import Analyzer, Concept, Lexicon, fold, words

Decision = Literal["answer", "suggest", "decline"]

FULL_SCORER = fuzz.token_sort_ratio

# The topic model's class for questions outside the field (search.yaml `outside_examples`).
OUTSIDE = ""


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
    # An answer given with little confidence: shown with the closest other topics offered
    # ("Menade du något av detta?") so that a near miss costs one tap.
    tentative: bool = False

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
    # Decision, step 1: is the question in the bot's field at all? Domain evidence is a
    # logistic function of what the question is made of, its coefficients fitted on the tuning
    # question sets (benchmarks/): how much of it the best topic covers, the share of words the
    # index does not know, words of school life outside the field, the best confidence, and
    # the topic model's margin for the outside class over the best topic.
    field_bias: float = -1.6
    field_coverage: float = 1.7
    field_unknown: float = -1.2
    field_outside: float = -1.0
    field_score: float = 0.8
    field_margin: float = -2.85
    field_at: float = 0.4  # probability from which a question counts as in the field
    min_coverage: float = 0.2  # and the share of it the best topic must cover at least
    no_model_margin: float = -0.6  # the margin assumed where no topic model is trained
    # Step 2: the best topic answers, unless the question is content-free. A question whose
    # words together weigh less than `vague_weight` (or one word under `vague_single_weight`)
    # is vague: it is answered only with `vague_margin` to the next topic, else the closest
    # topics are offered ("Menade du…?"); with nothing distinctive at all it is never answered.
    vague_weight: float = 1.0
    vague_single_weight: float = 2.0
    vague_margin: float = 0.05
    # … except a question of at least `vague_clear_concepts` concepts whose best topic scores
    # `vague_clear_score` with that margin: low-weight words, but a clear winner.
    vague_clear_concepts: int = 2
    vague_clear_score: float = 0.5
    exact_phrasing: float = 0.9  # phrasing likeness that makes a question not vague
    suggest_at: float = 0.25  # a suggestion needs at least this confidence, else decline
    answer_at: float = 0.0  # an answer needs at least this confidence, else a suggestion
    sure_at: float = 0.45  # an answer below this confidence is tentative (see SearchResult)
    candidates: int = 25  # topics re-ranked with the example phrasings
    fuzzy_candidates: int = 10  # the best of them also compared character by character …
    fuzzy_phrasings: int = 12  # … with this many of their phrasings most like the question
    # The learned topic model (see _TopicModel): its share of the confidence, the temperature
    # of its softmax, training (epochs, aggressiveness), the weight of character n-grams
    # against words, how many of its best topics join the pool, and the largest knowledge base
    # it is trained for (beyond, ranking is lexical only).
    w_model: float = 0.4
    model_temperature: float = 5.0
    model_epochs: int = 10
    model_c: float = 0.1
    model_batch: int = 16
    model_char_weight: float = 0.5
    model_pool: int = 3
    model_runs: int = 5
    model_max_topics: int = 500


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
    model: float = 0.0  # the topic model's probability


@dataclass(frozen=True)
class _Query:
    """A question ranked: the topics, and what the question is made of."""

    ranked: list[_Scored]
    n_concepts: int
    information: float  # the total weight of what the user said
    field_weight: float  # the same with everyday school words counted partly
    unknown_weight: float  # words the index does not know (names left out)
    outside: int  # words of school life outside the field ("betyg", "lunch")
    # Only everyday school words and names ("Vem är rektor på …?"): nothing about a child.
    only_common: bool = False
    p_outside: float = 0.0  # the topic model's probability that the question is outside
    # The topic model's score for the outside class minus its best topic's (negative: the
    # question looks like the field).
    outside_margin: float = 0.0


log = logging.getLogger(__name__)


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
        model: _TopicModel | None = None,
    ) -> None:
        self._analyzer = analyzer
        self._docs = docs
        self._model = model
        # Each document's class in the topic model (-1: none).
        self._doc_class = np.array(
            [model.index.get(d.topic_id, -1) if model else -1 for d in docs], dtype=np.int64
        )
        self._postings = postings
        self._idf = idf
        self._unknown_idf = unknown_idf
        # Every name of every glossary term (term, aliases, long form) as folded words.
        # Indexed by their first word, so that a question is looked up word by word.
        self._glossary_names: defaultdict[str, list[tuple[list[str], Term]]] = defaultdict(list)
        for term in glossary:
            for name in [term.term, *term.aliases, *([term.long] if term.long else [])]:
                folded = [fold(w) for w in words(name)]
                if folded:
                    self._glossary_names[folded[0]].append((folded, term))
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
    def load_or_build(
        cls, kb: KnowledgeBase, cache_dir: Path | None, tuning: Tuning | None = None
    ) -> SearchIndex:
        """The index of `kb`, from `cache_dir` when it was built before from exactly the same
        knowledge base, code and library versions (a server then starts in a fraction of the
        ~2.5 s a build takes); otherwise built and stored there. No cache_dir: built."""
        if cache_dir is None:
            return cls.build(kb, tuning)
        key = _cache_key(kb, tuning or Tuning())
        path = Path(cache_dir) / f"search-{key}.pickle"
        try:
            with path.open("rb") as fh:
                index = pickle.load(fh)
            if isinstance(index, cls):
                return index
        except FileNotFoundError:
            pass
        except Exception as exc:  # a damaged or stale file: rebuild it
            log.warning("search index cache unreadable (%s); rebuilding", type(exc).__name__)
        index = cls.build(kb, tuning)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)  # atomic: another process never reads half a file
        except OSError as exc:
            log.warning("search index not cached: %s", type(exc).__name__)
        return index

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
        model = None
        if tuning.w_model > 0 and len({t.id for t in kb.topics}) <= tuning.model_max_topics:
            samples: dict[tuple[str, str], None] = {}  # ordered and without repeats
            for topic in kb.topics:
                texts = [topic.title, *topic.examples, *topic.keywords]
                texts += [
                    " ".join([g.term, *([g.long] if g.long else []), *g.aliases])
                    for g in by_topic.get(topic.id, [])
                ]
                for text in texts:
                    samples[(topic.id, text)] = None
            for text in kb.lexicon.outside_examples:
                samples[(OUTSIDE, text)] = None
            model = _TopicModel.train(analyzer, list(samples), tuning)
        return cls(
            analyzer,
            docs,
            postings,
            weight_idf,
            _idf(n, tuning.unknown_df),
            list(kb.glossary.terms),
            [c for c in cues if c],
            tuning,
            model,
        )

    # --- searching ---------------------------------------------------------------------------

    def search(self, question: str, *, day: date, limit: int = 3) -> SearchResult:
        """Rank the topics valid on `day` for a question and decide what to do with it: decline
        a question outside the field; offer the closest topics for a content-free one
        ("anmälan", "soc"); otherwise answer with the best topic (the answer card shows the
        related topics, so a near miss still helps)."""
        tuning = self.tuning
        query = self._rank_query(question, day)
        ranked = query.ranked
        if not ranked:
            return SearchResult(question, "decline", None, 0.0, [])
        best = ranked[0]
        others = ranked[1:]
        limit = max(1, limit)
        if self.field_probability(query) < tuning.field_at or best.coverage < tuning.min_coverage:
            return SearchResult(question, "decline", None, best.score, [])
        # Worded (nearly) like one of the topic's own phrasings: not vague, whatever its words.
        worded_like = best.example >= tuning.exact_phrasing
        information = query.information
        vague = not worded_like and (
            information < tuning.vague_weight
            or (query.n_concepts == 1 and information < tuning.vague_single_weight)
        )
        second = others[0].score if others else 0.0
        # A vague question of several words ("vad gör soc när de fått min anmälan") is answered
        # when one topic stands out clearly; a single vague word ("anmälan") never is.
        clear = (
            query.n_concepts >= tuning.vague_clear_concepts
            and best.score >= tuning.vague_clear_score
        )
        content_free = (vague or (query.only_common and not worded_like)) and (
            (information < tuning.vague_weight and not clear)
            or query.only_common
            or best.score - second < tuning.vague_margin
        )
        if not content_free and best.score >= tuning.answer_at:
            alts = [Hit(s.topic_id, s.score) for s in others[: limit - 1] if s.score > 0]
            return SearchResult(
                question,
                "answer",
                best.topic_id,
                best.score,
                alts,
                tentative=best.score < tuning.sure_at,
            )
        if best.score >= tuning.suggest_at:
            close = [s for s in ranked[: max(2, limit)] if s.score >= tuning.suggest_at]
            return SearchResult(
                question, "suggest", None, best.score, [Hit(s.topic_id, s.score) for s in close]
            )
        return SearchResult(question, "decline", None, best.score, [])

    def field_probability(self, query: _Query) -> float:
        """How likely a ranked question is in the bot's field (domain evidence, 0..1)."""
        if not query.ranked:
            return 0.0
        t = self.tuning
        best = query.ranked[0]
        unknown = query.unknown_weight / query.information if query.information else 1.0
        margin = query.outside_margin if self._model is not None else t.no_model_margin
        z = (
            t.field_bias
            + t.field_coverage * best.coverage
            + t.field_unknown * unknown
            + t.field_outside * (query.outside > 0)
            + t.field_score * best.score
            + t.field_margin * margin
        )
        return 1.0 / (1.0 + math.exp(-z))

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
        return self._rank_query(question, day).ranked

    def _rank_query(self, question: str, day: date) -> _Query:
        """Ranked topics and what the question is made of."""
        tuning = self.tuning
        concepts = self._analyzer.concepts(question)
        if not concepts:
            return _Query([], 0, 0.0, 0.0, 0.0, 0)
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
        unknown_weight = sum(
            w for c, w in zip(concepts, weights, strict=True) if not c.known and not c.name
        )
        outside = sum(1 for c in concepts if c.outside)
        only_common = all(c.common or c.name for c in concepts)
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
            return _Query(
                [], len(concepts), total_weight, field_weight, unknown_weight, outside, only_common
            )

        bm25_max = total_weight * (tuning.k1 + 1)
        k = min(tuning.candidates, int(np.count_nonzero(totals)))
        top = np.argpartition(-totals, k - 1)[:k]
        pool = [int(d) for d in top[np.argsort(-totals[top], kind="stable")]]
        # The learned model: probabilities over the topics valid today; its best topics are
        # scored even when the lexical ranking did not pool them.
        modelled = self._model_probabilities(question, concepts, valid)
        probs, p_outside, outside_margin = modelled if modelled is not None else (None, 0.0, 0.0)
        if probs is not None:
            best_classes = set(np.argsort(-probs)[: tuning.model_pool].tolist())
            in_pool = set(pool)
            pool += [
                d
                for d in np.flatnonzero(valid).tolist()
                if self._doc_class[d] in best_classes and d not in in_pool
            ]
        alts = [
            [(frozenset(a.terms), min(1.0, a.weight)) for a in c.alternatives] for c in concepts
        ]
        scored: dict[str, _Scored] = {}
        likeness = self._phrasing_likeness(alts, weights, total_weight)
        fuzzy_of, fuzzy_full_of = self._fuzzy(question, pool, likeness)
        w_model = tuning.w_model if probs is not None else 0.0
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
            lexical = (
                tuning.w_core * core
                + tuning.w_coverage * coverage
                + tuning.w_example * min(1.0, example)
                + tuning.w_bm25 * bm25
                + tuning.w_fuzzy * fuzzy
                + tuning.w_fuzzy_full * fuzzy_full
                + tuning.w_knn * knn
            )
            c = int(self._doc_class[doc_id])
            model = float(probs[c]) if probs is not None and c >= 0 else 0.0
            score = (1.0 - w_model) * min(1.0, lexical) + w_model * model
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
                    model,
                )
        ranked = sorted(scored.values(), key=lambda s: (-s.score, s.topic_id))
        return _Query(
            ranked,
            len(concepts),
            total_weight,
            field_weight,
            unknown_weight,
            outside,
            only_common,
            p_outside,
            outside_margin,
        )

    def _model_probabilities(
        self, question: str, concepts: list[Concept], valid: npt.NDArray[np.bool_]
    ) -> tuple[npt.NDArray[np.float64], float, float] | None:
        """The topic model's softmax over the classes with a document valid today (and the
        outside class): the topics' probabilities given that the question is in the field, the
        probability that it is not, and the outside class's score margin over the best topic."""
        model = self._model
        if model is None:
            return None
        raw = model.scores(question, concepts)
        live = np.zeros(len(raw), dtype=bool)
        classes = self._doc_class[valid]
        live[classes[classes >= 0]] = True
        if not live.any():
            return None
        if model.outside is not None:
            live[model.outside] = True
        z = np.where(live, raw * self.tuning.model_temperature, -np.inf)
        z = np.exp(z - z[live].max())
        p: npt.NDArray[np.float64] = z / z.sum()
        p_out = margin = 0.0
        if model.outside is not None:
            p_out = float(p[model.outside])
            topics = live.copy()
            topics[model.outside] = False
            margin = float(raw[model.outside] - raw[topics].max())
            p[model.outside] = 0.0
            if p_out < 1.0:
                p = p / (1.0 - p_out)
        return p, p_out, margin

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
        self, question: str, pool: list[int], likeness: npt.NDArray[np.float64]
    ) -> tuple[dict[int, float], dict[int, float]]:
        """Character-level likeness (0..1) of the question to each pooled topic's closest
        phrasing: rapidfuzz token_set_ratio over the folded content words ("skickar in" ~
        "skicka in"), and over all the words, so that the form of a question counts too ("vad
        gör socialtjänsten …" ~ "vad gör soc …"); each in one call. Per topic only the
        `fuzzy_phrasings` phrasings most like the question by terms are compared (the closest
        by characters is nearly always among them; the cost no longer grows with examples)."""
        a = self._analyzer
        tuning = self.tuning
        if not (tuning.w_fuzzy or tuning.w_fuzzy_full):
            return {}, {}
        pool = pool[: tuning.fuzzy_candidates]
        chosen: list[npt.NDArray[np.int64]] = []
        for d in pool:
            lo, hi = int(self._ph_start[d]), int(self._ph_start[d + 1])
            if hi - lo > tuning.fuzzy_phrasings:
                top = np.argpartition(-likeness[lo:hi], tuning.fuzzy_phrasings - 1)
                chosen.append(top[: tuning.fuzzy_phrasings])
            else:
                chosen.append(np.arange(hi - lo))
        sizes = [len(c) for c in chosen]
        if not pool or not sum(sizes):
            return {}, {}
        starts = np.cumsum([0, *sizes[:-1]])
        out: list[dict[int, float]] = []
        for weight, q, full in (
            (tuning.w_fuzzy, " ".join(a.fold(w) for w in a.content_words(question)), False),
            (tuning.w_fuzzy_full, " ".join(a.fold(w) for w in words(question)), True),
        ):
            if not q or not weight:
                out.append({})
                continue
            texts = [
                (self._docs[d].full_texts if full else self._docs[d].texts)[int(i)]
                for d, idx in zip(pool, chosen, strict=True)
                for i in idx
            ]
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
        for i, w in enumerate(ws):
            for phrase, term in self._glossary_names.get(w, ()):
                n = len(phrase)
                if ws[i : i + n] == phrase and (best is None or n > best[0]):
                    best = (n, term, i, i + n)
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


class _TopicModel:
    """A linear classifier over the topics, learned when the index is built.

    Each phrasing of a topic (title, examples, keywords, the names of its glossary terms) is a
    training sample; its features are TF-IDF weights of its terms (stems, compound parts and
    synonym groups, as the index sees them), of pairs of neighbouring terms, and of character
    n-grams (3–5 letters) of its folded words, the character block weighing `char_weight`
    against the word block (each block L2-normalised). A multi-class passive-aggressive
    learner (PA-II, averaged; mini-batches in a fixed order, so every build gives the same
    model) learns one weight vector per topic: which words and word parts tell this topic from
    the others, which the lexical ranking does not learn ("slutat komma", "vägrar gå" for
    absence). At query time its scores become probabilities with a softmax over the topics
    valid on the day.
    """

    def __init__(
        self,
        analyzer: Analyzer,
        classes: list[str],
        vocab: dict[str, int],
        idf: npt.NDArray[np.float64],
        char_weight: float,
    ) -> None:
        self._analyzer = analyzer
        self.classes = classes
        self.index = {c: i for i, c in enumerate(classes)}
        self.outside = self.index.get(OUTSIDE)  # the class of questions outside the field
        self._vocab = vocab
        self._idf = idf
        self._char_weight = char_weight
        self._weights: npt.NDArray[np.float64] = np.zeros((len(vocab), len(classes)))

    @classmethod
    def train(
        cls, analyzer: Analyzer, samples: list[tuple[str, str]], tuning: Tuning
    ) -> _TopicModel:
        """Learn from (topic id, text) samples."""
        classes = sorted({c for c, _t in samples})
        class_of = {c: i for i, c in enumerate(classes)}
        blocks = [
            (_doc_word_features(analyzer, text), _char_features(analyzer, text))
            for _c, text in samples
        ]
        df: Counter[str] = Counter()
        for wf, cf in blocks:
            df.update(wf.keys())
            df.update(cf.keys())
        vocab = {key: i for i, key in enumerate(sorted(df))}
        n = len(samples)
        idf = np.log((1 + n) / (1 + np.array([df[k] for k in sorted(df)], dtype=np.float64)))
        model = cls(analyzer, classes, vocab, idf + 1.0, tuning.model_char_weight)
        ids, vals, ptr = model._vectors(blocks)
        ys = np.array([class_of[c] for c, _t in samples], dtype=np.int64)
        model._weights = _train_pa(ids, vals, ptr, ys, len(vocab), len(classes), tuning)
        return model

    def _vectors(
        self, blocks: list[tuple[dict[str, float], dict[str, float]]]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Samples as rows of a sparse matrix (feature ids, values, row pointers): sublinear
        TF-IDF, each block of a sample L2-normalised; features the model lacks dropped."""
        keys: list[str] = []
        tfs: list[float] = []
        segs: list[int] = []  # 2 × sample + block
        for s, (wf, cf) in enumerate(blocks):
            for b, block in enumerate((wf, cf)):
                keys.extend(block.keys())
                tfs.extend(block.values())
                segs.extend([2 * s + b] * len(block))
        vocab = self._vocab
        found = np.array([vocab.get(k, -1) for k in keys], dtype=np.int64)
        known = found >= 0
        ids = found[known]
        tf = np.array(tfs, dtype=np.float64)[known]
        seg = np.array(segs, dtype=np.int64)[known]
        counts = np.bincount(seg // 2, minlength=len(blocks))
        # Sublinear term frequency; a weaker alternative (a compound part, < 1) counts as itself.
        vals = np.where(tf >= 1.0, 1.0 + np.log(np.maximum(tf, 1.0)), tf) * self._idf[ids]
        norms = np.sqrt(np.bincount(seg, weights=vals * vals, minlength=2 * len(blocks)))
        scale = np.where(seg % 2 == 0, 1.0, self._char_weight)
        vals = vals * scale / np.maximum(norms[seg], 1e-12)
        ptr = np.zeros(len(blocks) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum(counts)
        return ids, vals, ptr

    def scores(self, question: str, concepts: list[Concept]) -> npt.NDArray[np.float64]:
        """The raw score of every class for a question (0 for all if nothing is known)."""
        ids, vals, _ptr = self._vectors(
            [
                (
                    _query_word_features(self._analyzer, question, concepts),
                    _char_features(self._analyzer, question),
                )
            ]
        )
        if not len(ids):
            return np.zeros(len(self.classes))
        out: npt.NDArray[np.float64] = vals @ self._weights[ids]
        return out


def _train_pa(
    ids: npt.NDArray[np.int64],
    vals: npt.NDArray[np.float64],
    ptr: npt.NDArray[np.int64],
    ys: npt.NDArray[np.int64],
    n_features: int,
    n_classes: int,
    tuning: Tuning,
) -> npt.NDArray[np.float64]:
    """Averaged multi-class passive-aggressive learning (PA-II, Crammer et al. 2006) in
    mini-batches: each sample whose class does not beat the best other class by a margin of 1
    moves both weight vectors by the smallest step that would fix it (at most `model_c`); a
    run's result is the average of the weights over all its steps. The model is the mean of
    `model_runs` runs over different fixed orders of the samples: one order alone makes the
    model depend on where each sample happens to fall, so that adding a phrasing to one topic
    moved answers of unrelated questions."""

    def run_in(order: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """One averaged PA-II run over the samples in the given order."""
        w = np.zeros(n_features * n_classes)
        u = np.zeros(n_features * n_classes)  # step-weighted sum of the updates (for the average)
        w2 = w.reshape(n_features, n_classes)
        batches = []
        size = tuning.model_batch
        for b0 in range(0, len(order), size):
            rows = order[b0 : b0 + size]
            parts = [np.arange(ptr[r], ptr[r + 1]) for r in rows]
            at = np.concatenate(parts)
            starts = np.zeros(len(rows), dtype=np.int64)
            starts[1:] = np.cumsum([len(p) for p in parts])[:-1]
            row_of = np.repeat(np.arange(len(rows)), [len(p) for p in parts])
            v = vals[at]
            batches.append((ids[at], v, starts, row_of, ys[rows], np.add.reduceat(v * v, starts)))
        t = 1
        for _epoch in range(tuning.model_epochs):
            for f, v, starts, row_of, y, sq in batches:
                n = len(y)
                rows_n = np.arange(n)
                s = np.add.reduceat(w2[f] * v[:, None], starts, axis=0)
                s_y = s[rows_n, y].copy()
                s[rows_n, y] = -np.inf
                other = s.argmax(axis=1)
                loss = 1.0 - (s_y - s[rows_n, other])
                tau = np.minimum(tuning.model_c, np.maximum(loss, 0.0) / (2.0 * sq))
                if tau.any():
                    hit = tau[row_of] > 0
                    r = row_of[hit]
                    step = tau[r] * v[hit]
                    base = f[hit] * n_classes
                    at_ = np.concatenate([base + y[r], base + other[r]])
                    delta = np.concatenate([step, -step])
                    np.add.at(w, at_, delta)
                    np.add.at(u, at_, t * delta)
                t += 1
        result: npt.NDArray[np.float64] = (w - u / t).reshape(n_features, n_classes)
        return result

    lengths = np.diff(ptr)
    rows_kept = [i for i in range(len(ys)) if lengths[i] > 0]
    runs = max(1, tuning.model_runs)
    total = np.zeros((n_features, n_classes))
    for seed in range(runs):
        order_list = list(rows_kept)
        random.Random(seed).shuffle(order_list)  # fixed orders: the same model on every build
        total += run_in(np.array(order_list, dtype=np.int64))
    result: npt.NDArray[np.float64] = total / runs
    return result


def _doc_word_features(analyzer: Analyzer, text: str) -> dict[str, float]:
    out: defaultdict[str, float] = defaultdict(float)
    for term, weight in analyzer.index_terms(text):
        out["w" + term] += weight
    raw = analyzer.raw_terms(text)
    for a, b in pairwise(raw):
        out["b" + a + " " + b] += 1.0
    return out


def _query_word_features(
    analyzer: Analyzer, question: str, concepts: list[Concept]
) -> dict[str, float]:
    """A question's terms as the index would see them, plus what the lexicon adds (synonyms,
    expansions, corrections), each at the weight of its best alternative."""
    out: defaultdict[str, float] = defaultdict(float)
    for concept in concepts:
        best: dict[str, float] = {}
        for alt in concept.alternatives:
            for t in alt.terms:
                best[t] = max(best.get(t, 0.0), min(1.0, alt.weight))
        for t, weight in best.items():
            out["w" + t] += weight
    raw = analyzer.raw_terms(question)
    for a, b in pairwise(raw):
        out["b" + a + " " + b] += 1.0
    return out


def _char_features(analyzer: Analyzer, text: str) -> dict[str, float]:
    out: defaultdict[str, float] = defaultdict(float)
    for w in analyzer.content_words(text):
        f = "<" + analyzer.fold(w) + ">"
        for n in (3, 4, 5):
            for i in range(len(f) - n + 1):
                out["c" + f[i : i + n]] += 1.0
    return out


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
    expansions = [(word, tuple(e.means)) for e in kb.lexicon.expansions for word in e.words]
    return Lexicon(
        stopwords=frozenset(kb.lexicon.stopwords),
        equivalents=tuple(groups),
        expansions=tuple(expansions),
        outside=tuple(kb.lexicon.outside),
        common=tuple(kb.lexicon.common),
    )


def _cache_key(kb: KnowledgeBase, tuning: Tuning) -> str:
    """A hash of everything the built index depends on: the knowledge base's files, this
    package's code, the tuning and the versions of Python and the libraries."""
    digest = hashlib.sha256()
    for part in (sys.version, np.__version__, repr(tuning)):
        digest.update(part.encode())
    code = sorted(Path(__file__).resolve().parent.glob("*.py"))
    data = sorted(p for p in Path(kb.directory).rglob("*.y*ml") if p.is_file())
    for path in [*code, *data]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]
