"""Search over the shipped knowledge base: properties that must hold whatever the wording of
the topics, and a floor on a held-out question set a little below what it measures (the
measurements themselves live in benchmarks/questions.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from benchmarks.questions import evaluate, read_cases
from knowledge import questions
from knowledge.loader import KnowledgeBase
from knowledge.search import SearchIndex

from .conftest import plain

DAY = date(2026, 11, 1)
OUT_OF_FIELD = Path(__file__).resolve().parent / "out_of_field.yaml"
HELDOUT = Path(__file__).resolve().parents[2] / "benchmarks" / "heldout.yaml"


def test_out_of_field_questions_are_not_answered(real_index: SearchIndex) -> None:
    questions = yaml.safe_load(OUT_OF_FIELD.read_text(encoding="utf-8"))["questions"]
    answered = [
        (q, r.topic) for q in questions if (r := real_index.search(q, day=DAY)).decision == "answer"
    ]
    assert len(answered) <= 0.1 * len(questions), answered


def test_every_topic_is_found_by_its_own_title(
    real_kb: KnowledgeBase, real_index: SearchIndex
) -> None:
    misses = []
    for topic in real_kb.topics_on(DAY).values():
        top3 = [h.topic_id for h in real_index.rank(topic.title, day=DAY, limit=3)]
        if topic.id not in top3:
            misses.append((topic.id, topic.title, top3))
    assert not misses


def _trained_on(kb: KnowledgeBase) -> set[str]:
    """Every text the topic model learns from (SearchIndex.build): titles, examples, keywords,
    glossary names, search.yaml's outside_examples and the labelled questions."""
    texts = [*kb.lexicon.outside_examples]
    texts += [q for _topic, q, _rel in questions.read(kb.directory)[0]]
    for topic in kb.topics:
        texts += [topic.title, *topic.examples, *topic.keywords]
    for term in kb.glossary.terms:
        texts += [term.term, *term.aliases, *([term.long] if term.long else [])]
    return {plain(t) for t in texts}


def test_held_out_questions_find_their_topic(
    real_kb: KnowledgeBase, real_index: SearchIndex
) -> None:
    # benchmarks/heldout.yaml was written from the topic descriptions and is never copied into
    # topic examples, search.yaml or knowledge/data/questions/ (the training data of the topic
    # model); the few questions
    # that nevertheless equal a trained phrasing are left out. Measured with
    # benchmarks/questions.py on 2026-12-07 (the whole set, scikit-learn engine): top-1 98.5 %,
    # top-3 100 %, out-of-field declined 16/16, in-field declined 0/66. The bars leave room
    # for the noise DEVELOPERS.md speaks of, not for a regression.
    trained = _trained_on(real_kb)
    cases = [c for c in read_cases(HELDOUT) if plain(c.q) not in trained]
    stats, misses = evaluate(real_index, cases, DAY)
    # Still a held-out set: not copied into the training data. Its short questions ("Vad är
    # en SIP?") were also written, independently, in the labelled training sets: 16 of 82
    # are left out since 2026-12-07 night.
    assert stats["in_field"] >= 50 and stats["out_of_field"] >= 8, stats
    assert stats["top1"] >= 0.93, misses
    assert stats["top3"] >= 0.96, misses
    assert stats["out_declined"] >= 0.85, misses
    assert stats["in_declined"] <= 0.04, misses


def test_every_required_topic_exists_today(real_kb: KnowledgeBase) -> None:
    today = real_kb.topics_on(DAY)
    assert set(real_kb.required) <= set(today)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Vad är LVU?", "lvu"),
        ("kan jag va anonym", "anmalan-anonym"),
        ("can I report anonymously", "anmalan-anonym"),
        ("Vem ringer jag när socialtjänsten har stängt för dagen?", "socialjour"),
        ("Vad är en SIP?", "sip"),
    ],
)
def test_a_few_plain_questions(real_index: SearchIndex, question: str, topic: str) -> None:
    result = real_index.search(question, day=DAY)
    assert (result.decision, result.topic) == ("answer", topic)


def test_every_topic_title_is_answered_with_its_topic(
    real_kb: KnowledgeBase, real_index: SearchIndex
) -> None:
    wrong = []
    for topic in real_kb.topics_on(DAY).values():
        result = real_index.search(topic.title, day=DAY)
        if (result.decision, result.topic) != ("answer", topic.id):
            wrong.append((topic.id, result.decision, result.topic))
    assert not wrong


@pytest.mark.parametrize(
    ("question", "not_topic"),
    [
        # Everyday school words and a name are no reason to answer.
        ("Vilka lärare har rastvakt idag?", None),
        ("Vem är rektor på Engelbrektsskolan?", None),
        # Registering for something is not reporting a concern.
        ("Hur anmäler jag mig till fortbildningen?", None),
        ("Hur sätter jag betyg i årskurs 9?", None),
    ],
)
def test_school_life_questions_are_not_answered(
    real_index: SearchIndex, question: str, not_topic: str | None
) -> None:
    assert real_index.search(question, day=DAY).decision != "answer"


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        # Who tells whom decides between two neighbouring topics.
        ("Får jag berätta för soc vad eleven sa i förtroende?", "sekretess-skola-till-soc"),
        ("Varför berättar socialtjänsten ingenting för skolan?", "sekretess-soc-till-skola"),
        # A place name does not push an in-field question out of the field.
        ("Eleven bor i Vallentuna men går i skola i Täby, vart ska anmälan?", "anmalan-vart"),
        # The reporter's own name is about anonymity, a child's name about consultation.
        ("Kan jag anmäla utan mitt namn?", "anmalan-anonym"),
        ("Kan jag rådfråga soc utan att säga barnets namn?", "konsultation"),
    ],
)
def test_neighbouring_topics_are_told_apart(
    real_index: SearchIndex, question: str, topic: str
) -> None:
    result = real_index.search(question, day=DAY)
    assert (result.decision, result.topic) == ("answer", topic)


def test_every_word_of_the_knowledge_base_is_searchable_without_aao(
    real_kb: KnowledgeBase, real_index: SearchIndex
) -> None:
    # Staff often type without å/ä/ö. A folded word can be "corrected" to itself ("darfor");
    # analysing the correction must not correct again (that recursed until the stack ran out).
    import re

    table = str.maketrans("åäöÅÄÖ", "aaoAAO")
    seen: set[str] = set()
    for topic in real_kb.topics_on(DAY).values():
        text = " ".join([topic.title, topic.answer, *topic.examples])
        seen.update(w.translate(table) for w in re.findall(r"\w+", text.lower()))
    for w in sorted(seen):
        real_index.search(f"vad {w}", day=DAY)  # raises if the analysis does not end
    for question in (
        "vad innebar anmalningsplikten",
        "galler anmalningsplikten aven utanfor skoltid",
    ):
        result = real_index.search(question, day=DAY)
        assert (result.decision, result.topic) == ("answer", "anmalningsplikt"), result
