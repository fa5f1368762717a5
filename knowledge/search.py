"""Search over the knowledge base: which topic answers a staff question, and how sure we are.

The index is built once (`SearchIndex.build`, knowledge.indexing) from every version of every
topic and the glossary, and shared by the bot and the CLI. Its ranking (knowledge.ranking) gives
every topic a confidence in [0, 1]. A question must be covered well enough to be in the
bot's field at all ("Vad blir det för lunch?" matches nothing and is declined, however its
nearest topic ranks) and at least half covered to be answered; then the confidence and the
margin to the next topic decide between answering, suggesting the closest topics ("Menade
du…?") and declining. A vague question (only common words, such as "anmälan") needs a clear
winner to be answered.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from rapidfuzz import fuzz

from knowledge.indexing import build_ranker, cache_key
from knowledge.loader import KnowledgeBase
from knowledge.model import Term
from knowledge.ranking import Query, Ranker
from knowledge.text import fold, words
from knowledge.tuning import Tuning

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


log = logging.getLogger(__name__)


class SearchIndex:
    """An inverted index over the topics; built once, read-only afterwards."""

    def __init__(
        self,
        ranker: Ranker,
        glossary: list[Term],
        definition_cues: list[tuple[str, ...]],
        tuning: Tuning,
    ) -> None:
        self._ranker = ranker
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
        key = cache_key(kb, tuning or Tuning())
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
        cues = [tuple(fold(w) for w in words(c)) for c in kb.lexicon.definition_cues]
        return cls(
            build_ranker(kb, tuning), list(kb.glossary.terms), [c for c in cues if c], tuning
        )

    # --- searching ---------------------------------------------------------------------------

    def search(self, question: str, *, day: date, limit: int = 3) -> SearchResult:
        """Rank the topics valid on `day` for a question and decide what to do with it: decline
        a question outside the field; offer the closest topics for a content-free one
        ("anmälan", "soc"); otherwise answer with the best topic (the answer card shows the
        related topics, so a near miss still helps)."""
        tuning = self.tuning
        query = self._ranker.rank(question, day)
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

    def field_probability(self, query: Query) -> float:
        """How likely a ranked question is in the bot's field (domain evidence, 0..1)."""
        if not query.ranked:
            return 0.0
        t = self.tuning
        best = query.ranked[0]
        unknown = query.unknown_weight / query.information if query.information else 1.0
        margin = query.outside_margin if self._ranker.model is not None else t.no_model_margin
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
        return self._ranker.term_count()

    def rank(self, question: str, *, day: date, limit: int = 10) -> list[Hit]:
        """The best topics with their confidence, before any decision (for tools and tests)."""
        return [Hit(s.topic_id, s.score) for s in self._ranker.rank(question, day).ranked[:limit]]

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
        leftover = [w for w in rest if not self._ranker.analyzer.is_stopword(w)]
        cue_words = {w for c in self._cues for w in c}
        leftover = [w for w in leftover if w not in cue_words]
        # Only the term (and a cue such as "vad betyder"): "Vad innebär barnkonventionen för
        # skolan?" asks more than what the word means and goes to search.
        return term if not leftover else None

