"""Building search's ranking from the knowledge base: the fields of every topic version, BM25
postings, phrasings and the topic model's training samples; and the key of a cached build."""

from __future__ import annotations

import hashlib
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import numpy as np

from knowledge.loader import KnowledgeBase
from knowledge.model import Term, Topic
from knowledge.ranking import Doc, Ranker
from knowledge.text import Analyzer, Lexicon, words
from knowledge.topic_model import OUTSIDE, TopicModel
from knowledge.tuning import Tuning


def build_ranker(kb: KnowledgeBase, tuning: Tuning) -> Ranker:
    """The ranking of every version of every topic of `kb` (`SearchIndex.build`)."""
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
        Doc(
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
        model = TopicModel.train(analyzer, list(samples), tuning)
    return Ranker(
        analyzer,
        docs,
        postings,
        weight_idf,
        _idf(n, tuning.unknown_df),
        tuning,
        model,
    )


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


_LIBRARIES = ("numpy", "scipy", "scikit-learn", "rapidfuzz", "PyStemmer")


def _version(name: str) -> str:
    try:
        return f"{name} {metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return f"{name} -"


def cache_key(kb: KnowledgeBase, tuning: Tuning) -> str:
    """A hash of everything the built index depends on: the knowledge base's files, this
    package's code and the shared text code (common/), the tuning and the versions of Python and
    the libraries."""
    digest = hashlib.sha256()
    versions = [_version(name) for name in _LIBRARIES]
    for part in (sys.version, repr(tuning), *versions):
        digest.update(part.encode())
    here = Path(__file__).resolve().parent
    code = sorted([*here.glob("*.py"), *(here.parent / "common").glob("*.py")])
    data = sorted(p for p in Path(kb.directory).rglob("*.y*ml") if p.is_file())
    for path in [*code, *data]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]
