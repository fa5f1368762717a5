"""The ranking of search: how well each topic version valid on a day matches a question, as a
confidence in [0, 1] made of lexical evidence and the learned topic model.

What the user said is analysed into concepts (knowledge.text), each weighted by its IDF over the
topics' core fields (title, examples, keywords, glossary entries: the words that tell topics
apart); a word the index has never seen weighs as a rare one. Ranking:

1. BM25 over one weighted bag of terms per topic version (title, example phrasings and keywords
   weigh most, then glossary entries for the topic, the answer, details and what changed), with
   the precomputed contribution of every (term, topic) pair in numpy postings;
2. the best example phrasing (or the title) compared with the question, as IDF-weighted overlap
   of what the user said: a question worded like an example is strong evidence;
3. coverage: how much of what the user said the topic's core fields match, and its whole text;
4. rapidfuzz's token_set_ratio between the question and the closest phrasing (a small share).

Together they make a confidence in [0, 1] (the decision on it: knowledge.search).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from knowledge.text import Analyzer, Concept, words
from knowledge.topic_model import TopicModel
from knowledge.tuning import Tuning


@dataclass(frozen=True)
class Doc:
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
class Scored:
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
class Query:
    """A question ranked: the topics, and what the question is made of."""

    ranked: list[Scored]
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


class Ranker:
    """The documents (topic versions) with their BM25 postings and phrasings, and the topic
    model; built once (knowledge.indexing), read-only afterwards."""

    def __init__(
        self,
        analyzer: Analyzer,
        docs: list[Doc],
        postings: dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]],
        idf: dict[str, float],
        unknown_idf: float,
        tuning: Tuning,
        model: TopicModel | None = None,
    ) -> None:
        self.analyzer = analyzer
        self._docs = docs
        self.model = model
        # Each document's class in the topic model (-1: none).
        self._doc_class = np.array(
            [model.index.get(d.topic_id, -1) if model else -1 for d in docs], dtype=np.int64
        )
        self._postings = postings
        self._idf = idf
        self._unknown_idf = unknown_idf
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

    def term_count(self) -> int:
        """How many distinct terms the index holds (for benchmarks)."""
        return len(self._postings)

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

    def rank(self, question: str, day: date) -> Query:
        """Ranked topics and what the question is made of."""
        tuning = self.tuning
        concepts = self.analyzer.concepts(question)
        if not concepts:
            return Query([], 0, 0.0, 0.0, 0.0, 0)
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
            return Query(
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
        scored: dict[str, Scored] = {}
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
                scored[doc.topic_id] = Scored(
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
        return Query(
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
        model = self.model
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
        a = self.analyzer
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

