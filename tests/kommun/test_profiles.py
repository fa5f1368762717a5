"""Each example profile: the national answer, then "I <kommun>:" with that kommun's routine
(and its forum names) – never another kommun's – or the line that sends the user to their
rektor or elevhälsan."""

from __future__ import annotations

import numpy as np
import pytest

from common.catalogue import Catalogue
from dialogs.answers import TopicCards
from knowledge.kommun import Kommuner, sources_json
from knowledge.loader import KnowledgeBase
from knowledge.search import SearchIndex
from tests.conftest import cached_index
from tests.kommun.conftest import DAY, EXAMPLES, card_text, kommun_kb

# (what the question is about, question, topic it must find)
QUESTIONS = [
    ("feedback", "Har jag rätt till återkoppling på min orosanmälan?", "aterkoppling-lagkrav"),
    ("forums", "Vilka samverkansforum finns mellan skolan och socialtjänsten?", "samverkansforum"),
    ("contact", "Vart ska jag skicka orosanmälan?", "anmalan-vart"),
    (
        "guardians",
        "Ska jag berätta för vårdnadshavarna att vi gör en anmälan?",
        "informera-vardnadshavare",
    ),
]
# Words only one example kommun's routines use: another kommun's answer must never show them.
OWN_WORDS = {
    "stockholm": ["Östermalm", "Norrmalm", "familjeenheten", "Östermalms stadsdelsförvaltning"],
    "ekero": ["Ekerö", "PRISMA", "Uppföljning av PRISMA"],
    "lekeberg": ["Lekeberg", "LEFA", "Samverkansplan för barns bästa"],
}
# Forum names each kommun's forum answer must name (from its forums.yaml).
FORUM_NAMES = {
    "stockholm": [
        "BUS individforum Kungsholmen/Norrmalm/Östermalm",
        "Skolbaserad konsultationsgrupp Engelbrektsskolan",
    ],
    "ekero": ["PRISMA ledningsgrupp", "Månadsmöte socialtjänst barn och ungdom och polisen"],
    "lekeberg": [
        "2+2-möte (nämndernas ordförande och förvaltningschefer)",
        "Styrgruppen för samverkan kring barns bästa",
    ],
}


@pytest.mark.parametrize("kommun_id", EXAMPLES)
@pytest.mark.parametrize(("about", "question", "topic_id"), QUESTIONS)
def test_answer_is_national_then_own_routine(
    national: KnowledgeBase,
    kommuner: Kommuner,
    messages: Catalogue,
    kommun_id: str,
    about: str,
    question: str,
    topic_id: str,
) -> None:
    kb, index = kommun_kb(national, kommuner, kommun_id)
    profile = kommuner.profiles[kommun_id]
    result = index.search(question, day=DAY)
    assert result.topic == topic_id, (about, result.topic)
    topic = kb.topics_on(DAY)[topic_id]
    text = card_text(TopicCards(kb, messages).answer_card(topic, DAY))
    # the national answer first, then the kommun's own routine
    head = f"I {profile.info.short_name}:"
    assert text.index(topic.lead) < text.index(head)  # the short answer, then the routine
    routines = profile.routines_for(topic_id, DAY)
    assert routines, f"{kommun_id} should have a routine for {topic_id}"
    for routine in routines:
        assert routine.text in text
    assert "Fråga din rektor eller elevhälsan" not in text
    if about == "forums":
        for name in FORUM_NAMES[kommun_id]:
            assert name in text
    for other, words in OWN_WORDS.items():
        if other == kommun_id:
            continue
        for word in words:
            assert word not in text, (kommun_id, other, word)
        for routine in kommuner.profiles[other].routines:
            assert routine.text not in text
    # the contract: every local source is this kommun's, and its document is named
    sources = sources_json(kb, topic, DAY)
    local = [s for s in sources if s["kind"] == "local"]
    assert local and all(s["kommun"] == kommun_id for s in local)
    assert {s["kind"] for s in sources} <= {"law", "guidance", "local"}


@pytest.mark.parametrize("kommun_id", EXAMPLES)
def test_topic_without_routine_sends_to_rektor(
    national: KnowledgeBase, kommuner: Kommuner, messages: Catalogue, kommun_id: str
) -> None:
    kb, _ = kommun_kb(national, kommuner, kommun_id)
    profile = kommuner.profiles[kommun_id]
    topic = kb.topics_on(DAY)["grooming-natet"]  # no example profile has a routine for it
    assert not profile.routines_for(topic.id, DAY)
    text = card_text(TopicCards(kb, messages).answer_card(topic, DAY))
    assert f"I {profile.info.short_name}:" in text
    assert "Fråga din rektor eller elevhälsan om er lokala rutin." in text
    assert all(s["kind"] != "local" for s in sources_json(kb, topic, DAY))


def test_national_layer_alone_adds_nothing_local(
    national: KnowledgeBase, messages: Catalogue
) -> None:
    topic = national.topics_on(DAY)["aterkoppling-lagkrav"]
    text = card_text(TopicCards(national, messages).answer_card(topic, DAY))
    assert "Fråga din rektor" not in text and "I Stockholm:" not in text


@pytest.mark.parametrize(
    ("kommun_id", "question", "topic_id", "routine_word"),
    [
        ("ekero", "Vad är PRISMA?", "samverkansforum", "PRISMA"),
        ("lekeberg", "Hur ofta träffas 2+2?", "samverkansforum", "2+2"),
        ("stockholm", "Vad är ett BUS-individforum?", "bus", "individforum"),
        ("ekero", "Vad gör socialkontoret?", "anmalan-vart", "socialkontorets"),
    ],
)
def test_the_kommun_words_find_their_topic(
    national: KnowledgeBase,
    kommuner: Kommuner,
    messages: Catalogue,
    kommun_id: str,
    question: str,
    topic_id: str,
    routine_word: str,
) -> None:
    kb, index = kommun_kb(national, kommuner, kommun_id)
    result = index.search(question, day=DAY)
    assert result.topic == topic_id
    text = card_text(TopicCards(kb, messages).answer_card(kb.topics_on(DAY)[topic_id], DAY))
    assert routine_word in text


@pytest.mark.parametrize(("kommun_id", "question"), [("ekero", "Vad är PRISMA?")])
def test_a_kommun_word_is_only_that_kommun_s(
    national: KnowledgeBase, kommuner: Kommuner, kommun_id: str, question: str
) -> None:
    # PRISMA is Ekerö's word: with Ekerö's profile it finds the forums, elsewhere it is unknown.
    for other in EXAMPLES:
        _, index = kommun_kb(national, kommuner, other)
        found = index.search(question, day=DAY).topic
        assert (found == "samverkansforum") == (other == kommun_id), (other, found)


def test_national_topics_name_no_kommun(national: KnowledgeBase) -> None:
    # Local routines live in the profiles; the national texts say nothing of one kommun.
    for topic in national.topics:
        for text in (topic.answer, topic.details or "", topic.changed or ""):
            for word in ("Östermalm", "Norrmalm", "Ekerö", "Lekeberg"):
                assert word not in text, (topic.id, word)


def test_lekeberg_forums_after_the_plan_ran_out(
    national: KnowledgeBase, kommuner: Kommuner
) -> None:
    from datetime import date

    profile = kommuner.profiles["lekeberg"]
    (during,) = profile.routines_for("samverkansforum", date(2022, 5, 1))
    (after,) = profile.routines_for("samverkansforum", date(2026, 5, 1))
    assert during is not after and "gått ut" in after.text


@pytest.mark.parametrize("kommun_id", EXAMPLES)
def test_flow_and_reasons_cards_show_no_other_kommun_document(
    national: KnowledgeBase, kommuner: Kommuner, messages: Catalogue, kommun_id: str
) -> None:
    # The contact flow's and the assessment's own sources cite seed documents too.
    from dialogs.flows import load_flows
    from knowledge.model import SeedSource

    kb, _ = kommun_kb(national, kommuner, kommun_id)
    cards = TopicCards(kb, messages)
    seeds = [SeedSource(seed=s) for s in sorted(kb.seeds)]
    text = card_text({"body": cards.sources_block(seeds, DAY)})
    reasons = cards.reasons_card([{"text": "x", "sources": sorted(kb.seeds)}], DAY)
    for seed_id, seed in kb.seeds.items():
        shown = seed.kommun == kommun_id
        assert (seed.name in text) == shown, (seed_id, kommun_id)  # named in words
        assert seed.file not in text and seed.file not in card_text(reasons)
        assert (seed.name in card_text(reasons)) == shown, (seed_id, kommun_id)
    assert load_flows(kb.directory)  # the flows load with the kommun's knowledge base


@pytest.mark.parametrize("kommun", EXAMPLES)
def test_example_forums_meet_on_weekdays(kommun: str) -> None:
    """The example schedules are what a kommun copies: over three years, no meeting falls on a
    Saturday or Sunday (a rule like "every fourth month" from a Thursday drifts onto weekends;
    a weekday rule such as BYDAY=4TH does not)."""
    from datetime import UTC, datetime

    from forums.file_import import parse_forums_yaml
    from forums.schedule import upcoming
    from tests.kommun.test_kommun_registry import profile_file

    path = profile_file(kommun, "forums.yaml")
    forums, problems = parse_forums_yaml(path.read_text(encoding="utf-8"), path.name)
    assert forums and not problems, problems
    meetings = upcoming(forums, datetime(2026, 9, 1, tzinfo=UTC), datetime(2029, 9, 1, tzinfo=UTC))
    assert len(meetings) > 20
    weekend = [(m.forum, f"{m.start:%Y-%m-%d %a}") for m in meetings if m.start.weekday() >= 5]
    assert not weekend, weekend


@pytest.mark.parametrize("kommun_id", EXAMPLES)
def test_a_kommun_reads_with_the_national_model(
    national: KnowledgeBase, kommuner: Kommuner, kommun_id: str
) -> None:
    """A kommun's index trains nothing: it shares the national model's weights, and a question
    without the kommun's words gets exactly the national probabilities."""
    kb, _ = kommun_kb(national, kommuner, kommun_id)
    base = cached_index(national)
    index = SearchIndex.for_kommun(base, kb)
    assert index.model._rows is base.model._rows
    questions = ["Måste jag berätta för föräldrarna att jag anmäler?", "Vad är en SIP?"]
    assert np.array_equal(index.probabilities(questions, DAY), base.probabilities(questions, DAY))
    # its own word reads differently (Ekerö's PRISMA: test_a_kommun_word_is_only_that_kommun_s)
    if kommun_id == "ekero":
        q = ["Vad är PRISMA?"]
        assert not np.array_equal(index.probabilities(q, DAY), base.probabilities(q, DAY))
