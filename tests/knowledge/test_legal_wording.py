"""The legal wording corrected in the review of 2026-12-07 (issue 12, items 7 and 8), pinned so
that it cannot slip back: each was wrong or missing before."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.loader import KnowledgeBase, load
from knowledge.search import SearchIndex
from knowledge.situations import SituationDetector
from tests.conftest import cached_index

TODAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load()


def text_of(kb: KnowledgeBase, topic_id: str) -> str:
    topic = kb.topic(topic_id, TODAY)
    assert topic is not None, topic_id
    return f"{topic.answer} {topic.details or ''} {topic.changed or ''}"


def test_the_rektors_police_report_yields_only_to_overvagande_skal(kb: KnowledgeBase) -> None:
    text = text_of(kb, "sekretess-polis")
    assert "övervägande skäl" in text and "tungt vägande" not in text
    # The information duty towards the police, in force since 2025-04-01.
    assert "2025:170" in text or "uppgiftsskyldighet" in text.lower()


@pytest.mark.parametrize("topic_id", ["lvu", "anmalan-efter"])
def test_the_lvu_test_is_palpable_risk_and_no_consent(kb: KnowledgeBase, topic_id: str) -> None:
    text = text_of(kb, topic_id)
    assert "påtaglig risk" in text and "samtycke" in text
    assert "behovet är omfattande" not in text


def test_the_placing_kommun_stays_responsible(kb: KnowledgeBase) -> None:
    assert "den kommun som har placerat barnet" in text_of(kb, "placerade-barn")


def test_handing_over_a_report_with_the_family_has_its_caveat(kb: KnowledgeBase) -> None:
    text = text_of(kb, "anmalan-hur")
    assert "våld" in text and "heder" in text


def test_meta_says_what_was_checked_and_when(kb: KnowledgeBase) -> None:
    assert kb.meta.legal_checked >= date(2026, 12, 7)
    note = kb.meta.legal_note
    assert "docs/legal-check-2026-12.md" in note and "inte kontrollerats" in note


@pytest.fixture(scope="module")
def index(kb: KnowledgeBase) -> SearchIndex:
    return cached_index(kb)


@pytest.mark.parametrize(
    ("question", "topic_id"),
    [
        (
            "Vi är rädda att en flicka ska könsstympas när familjen reser bort på sommarlovet",
            "konsstympning",
        ),
        ("En vuxen man ber en elev skicka nakenbilder via Snapchat, vad gör vi?", "grooming-natet"),
        (
            "Jag har sett en kollega slita och rycka hårt i ett barn på förskolan",
            "personal-skadar-barn",
        ),
        ("Pappan till eleven jag anmälde hotar mig nu, vad gör jag?", "hot-mot-anmalare"),
    ],
)
def test_the_new_topics_answer(index: SearchIndex, question: str, topic_id: str) -> None:
    result = index.search(question, day=TODAY)
    found = [result.topic, *(h.topic_id for h in result.alternatives)]
    assert topic_id in found, (question, found)


def test_the_routing_note_says_where_the_child_lives() -> None:
    from contacts import texts

    assert "där barnet bor" in texts().text("routing.report_rule")


def test_situations_detector_sees_the_new_topics_as_concerns() -> None:
    detector = SituationDetector.build()
    assert detector("Jag tror att en elev har blivit könsstympad i somras").concern
