"""Search over the knowledge base: which topic answers a staff question, and how sure we are.

The engine in one paragraph: every phrasing of a topic (its title, examples, keywords and the
names of its glossary terms) and every staff question labelled with it (knowledge/data/questions/)
is a training sample for that topic, and varied messages from outside the field (search.yaml
`outside_examples`, questions labelled null) are samples of one more class, "outside".
Text is folded (no case, no å/ä/ö), the lexicon's phrases add the words they stand for ("soc" →
socialtjänsten, "report" → anmäla) and words are stemmed; a logistic regression (scikit-learn)
over TF-IDF of the stemmed words and word pairs and of character 3–5-grams (typos, compounds)
gives every topic and the outside class a probability (words it never saw count in the length
of the question, so that they make it less sure). A question is answered with the best
topic valid on the day when that topic is at least `answer_ratio` times as likely as "outside";
otherwise the closest topics are offered ("Menade du…?") when the best is still at least
`suggest_ratio` times as likely as "outside"; otherwise it is declined. Every constant is in
knowledge/search-constants.yaml, fitted by `python -m benchmarks.fit_search`.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import sys
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np

from common import yaml_safe
from knowledge import questions as labelled
from knowledge.loader import DEFAULT_DIR, KnowledgeBase
from knowledge.model import Term
from knowledge.model_cache import mark_used, versions, write_atomically
from knowledge.text import Reader, is_english, words
from knowledge.topic_model import OUTSIDE, TopicModel

Decision = Literal["answer", "suggest", "decline"]
CONSTANTS_FILE = Path(__file__).resolve().parent / "search-constants.yaml"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Constants:
    """The constants of search: knowledge/search-constants.yaml, the one place they are set,
    explains each (no defaults here, so that there is no second copy)."""

    c: float
    char_weight: float
    outside_share: float
    answer_ratio: float
    answer_at: float
    sure_at: float
    suggest_at: float
    suggest_ratio: float
    unknown_weight: float

    @classmethod
    def load(cls, path: Path = CONSTANTS_FILE) -> Constants:
        data = yaml_safe.safe_load(path.read_text(encoding="utf-8")) or {}
        known = {f.name for f in fields(cls)}
        if set(data) != known:
            raise ValueError(f"{path.name}: constants {sorted(set(data) ^ known)} wrong or missing")
        return cls(**{k: float(v) for k, v in data.items()})


@dataclass(frozen=True)
class Hit:
    topic_id: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    question: str
    decision: Decision
    topic: str | None  # set only when decision == "answer"
    score: float  # probability of the best topic
    alternatives: list[Hit] = field(default_factory=list)
    # An answer given with little confidence: shown with the closest other topics offered
    # ("Menade du något av detta?") so that a near miss costs one tap.
    tentative: bool = False
    # The question reads as English (the answer is in Swedish; the reply says so).
    english: bool = False

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


class SearchIndex:
    """The trained topic model of a knowledge base; built once, read-only afterwards."""

    def __init__(
        self,
        kb: KnowledgeBase,
        constants: Constants | None = None,
        leave_out: tuple[str, ...] = (),
        model: TopicModel | None = None,
    ) -> None:
        """`leave_out`: question files or folders not to train on (cross-validation only).
        `model`: a model trained before, to read questions with `kb`'s lexicon (`for_kommun`)."""
        self.constants = constants or Constants.load()
        lexicon = kb.lexicon
        english = [*lexicon.english, *lexicon.english_more]
        self._english = frozenset(w for t in english for w in words(t))
        self._swedish = frozenset(w for t in lexicon.swedish for w in words(t))
        # Every name of every glossary term as folded words, indexed by its first word: the
        # kommun's own terms (its words with an explanation) first, so that they win a tie.
        self._glossary: dict[str, list[tuple[list[str], Term]]] = {}
        own = kb.kommun.terms() if kb.kommun is not None else []
        for term in [*own, *kb.glossary.terms]:
            for name in [term.term, *term.aliases, *([term.long] if term.long else [])]:
                if ws := words(name):
                    self._glossary.setdefault(ws[0], []).append((ws, term))
        self._cue_words = {w for cue in lexicon.definition_cues for w in words(cue)}
        # The days on which each topic has a version: (valid_from, valid_until) per version.
        self._validity: dict[str, list[tuple[date | None, date | None]]] = {}
        for topic in kb.topics:
            self._validity.setdefault(topic.id, []).append((topic.valid_from, topic.valid_until))
        reader = Reader(_expansions(kb), ignore=lexicon.english)
        self.model = (
            model.with_reader(reader)
            if model is not None
            else TopicModel.train(
                reader,
                _samples(kb, leave_out),
                self.constants.c,
                self.constants.char_weight,
                self.constants.outside_share,
            )
        )
        self._outside = self.model.classes.index(OUTSIDE) if OUTSIDE in self.model.classes else -1
        self._masks: dict[date, np.ndarray] = {}

    # --- building ----------------------------------------------------------------------------

    @classmethod
    def build(
        cls, kb: KnowledgeBase, constants: Constants | None = None, leave_out: tuple[str, ...] = ()
    ) -> SearchIndex:
        return cls(kb, constants, leave_out)

    @classmethod
    def for_kommun(cls, national: SearchIndex, kb: KnowledgeBase) -> SearchIndex:
        """The index of `kb`, the national knowledge base as one kommun sees it
        (knowledge.kommun.with_profile), on the national index's model: the kommun's words
        reach search as question-side expansions and its own terms as glossary entries, and
        nothing is trained. A question without the kommun's words is decided exactly as
        nationally, and a kommun changes no model."""
        return cls(kb, national.constants, model=national.model)

    @classmethod
    def load_or_build(
        cls, kb: KnowledgeBase, cache_dir: Path | None, constants: Constants | None = None
    ) -> SearchIndex:
        """The index of `kb`, from `cache_dir` when it was built before from exactly the same
        knowledge base, code, constants and library versions; otherwise built and stored
        there. No cache_dir: built."""
        constants = constants or Constants.load()
        if cache_dir is None:
            return cls.build(kb, constants)
        path = Path(cache_dir) / f"search-{cache_key(kb, constants)}.pickle"
        try:
            with path.open("rb") as fh:
                index = pickle.load(fh)
            if isinstance(index, cls):
                mark_used(path)
                return index
        except FileNotFoundError:
            pass
        except Exception as exc:  # a damaged or stale file: rebuild it
            log.warning("search index cache unreadable (%s); rebuilding", type(exc).__name__)
        index = cls.build(kb, constants)
        try:  # atomic: another process never reads half a file
            write_atomically(path, lambda fh: pickle.dump(index, fh, pickle.HIGHEST_PROTOCOL))
        except OSError as exc:
            log.warning("search index not cached: %s", type(exc).__name__)
        return index

    # --- searching ---------------------------------------------------------------------------

    def probabilities(self, questions: list[str], day: date) -> np.ndarray:
        """Class probabilities (rows: questions, columns: `model.classes`), topics without a
        version valid on `day` removed and the rest renormalised."""
        p = self.model.probabilities(questions, self.constants.unknown_weight) * self._mask(day)
        total = p.sum(axis=1, keepdims=True)
        out: np.ndarray = p / np.where(total > 0, total, 1.0)
        return out

    def search(self, question: str, *, day: date, limit: int = 3) -> SearchResult:
        """Answer, suggest or decline (see the module docstring)."""
        return self.decide(question, self.probabilities([question], day)[0], limit)

    def decide(self, question: str, p: np.ndarray, limit: int = 3) -> SearchResult:
        """The decision for one row of `probabilities`."""
        k = self.constants
        english = is_english(question, self._english, self._swedish)
        outside = float(p[self._outside]) if self._outside >= 0 else 0.0
        ranked = [i for i in np.argsort(-p, kind="stable") if i != self._outside and p[i] > 0]
        if not ranked:
            return SearchResult(question, "decline", None, 0.0, [], english=english)
        hits = [Hit(self.model.classes[i], float(p[i])) for i in ranked[: max(1, limit)]]
        best = hits[0]
        if best.score >= k.answer_at and best.score >= k.answer_ratio * outside:
            return SearchResult(
                question,
                "answer",
                best.topic_id,
                best.score,
                hits[1:],
                tentative=best.score < k.sure_at,
                english=english,
            )
        if best.score >= k.suggest_at and best.score >= k.suggest_ratio * outside:
            return SearchResult(question, "suggest", None, best.score, hits, english=english)
        return SearchResult(question, "decline", None, best.score, [], english=english)

    def rank(self, question: str, *, day: date, limit: int = 10) -> list[Hit]:
        """The best topics with their probability, before any decision (for tools and tests)."""
        p = self.probabilities([question], day)[0]
        order = [i for i in np.argsort(-p, kind="stable") if i != self._outside and p[i] > 0]
        return [Hit(self.model.classes[i], float(p[i])) for i in order[:limit]]

    def term_count(self) -> int:
        """How many features the model has (for benchmarks)."""
        return self.model.feature_count()

    def _mask(self, day: date) -> np.ndarray:
        mask = self._masks.get(day)
        if mask is None:
            if len(self._masks) > 8:
                self._masks.clear()
            mask = self._masks[day] = np.array(
                [
                    c == OUTSIDE
                    or any(
                        (a is None or a <= day) and (b is None or day <= b)
                        for a, b in self._validity.get(c, [])
                    )
                    for c in self.model.classes
                ],
                dtype=np.float64,
            )
        return mask

    # --- glossary ----------------------------------------------------------------------------

    def explain_term(self, text: str) -> Term | None:
        """The glossary term a "vad betyder BUS?"-style question asks about, else None: the
        question names a term (or an alias or its long form) and says nothing else than a cue
        such as "vad betyder" or "står för"."""
        ws = words(text)
        best: tuple[int, Term, int] | None = None
        for i, w in enumerate(ws):
            for name, term in self._glossary.get(w, ()):
                n = len(name)
                if ws[i : i + n] == name and (best is None or n > best[0]):
                    best = (n, term, i)
        if best is None:
            return None
        n, term, start = best
        rest = ws[:start] + ws[start + n :]
        return term if all(w in self._cue_words for w in rest) else None


def _samples(kb: KnowledgeBase, leave_out: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(class, text) for the topic model, in a fixed order and without repeats."""
    by_topic: dict[str, list[Term]] = {}
    for term in kb.glossary.terms:
        if term.topic is not None:
            by_topic.setdefault(term.topic, []).append(term)
    samples: dict[tuple[str, str], None] = {}
    for topic in kb.topics:
        names = [
            " ".join([g.term, *([g.long] if g.long else []), *g.aliases])
            for g in by_topic.get(topic.id, [])
        ]
        for text in [topic.title, *topic.examples, *topic.keywords, *names]:
            samples[(topic.id, text)] = None
    for text in kb.lexicon.outside_examples:
        samples[(OUTSIDE, text)] = None
    ids = {t.id for t in kb.topics}
    for topic_id, text in labelled.samples(kb.directory, ids, leave_out):
        samples[(topic_id or OUTSIDE, text)] = None
    return list(samples)


def _expansions(kb: KnowledgeBase) -> list[tuple[str, list[str]]]:
    """The lexicon's phrases and what each adds: an expansion adds its meaning; a member of an
    equivalence group (search.yaml, glossary synonyms, a term's names) adds the group's first
    member."""
    out = [(w, list(e.means)) for e in kb.lexicon.expansions for w in e.words]
    groups = [*kb.lexicon.equivalents, *kb.glossary.synonyms]
    groups += [[t.term, *([t.long] if t.long else []), *t.aliases] for t in kb.glossary.terms]
    out += [(member, [group[0]]) for group in groups if len(group) > 1 for member in group[1:]]
    return out


_LIBRARIES = ("numpy", "scipy", "scikit-learn", "PyStemmer")


def cache_key(kb: KnowledgeBase, constants: Constants) -> str:
    """A hash of everything the built index depends on: the knowledge base's files, this
    package's code and constants, the shared text code (common/), and the versions of Python
    and the libraries."""
    digest = hashlib.sha256()
    for part in (sys.version, repr(constants), *versions(_LIBRARIES)):
        digest.update(part.encode())
    here = Path(__file__).resolve().parent
    code = sorted([*here.glob("*.py"), *(here.parent / "common").glob("*.py")])
    code += [CONSTANTS_FILE, DEFAULT_DIR / "search.yaml"]  # the lexicon a KB may lack
    data = sorted(p for p in Path(kb.directory).rglob("*.y*ml") if p.is_file())
    for path in [*code, *data]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]
