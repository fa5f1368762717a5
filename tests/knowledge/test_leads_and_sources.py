"""Issue 16: every answer leads with a short answer in plain Swedish, buttons fit, and sources
have human names with links to the public text (never a file name)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from pydantic import ValidationError

from dialogs import texts as dialog_texts
from knowledge import cite
from knowledge.loader import KnowledgeBase
from knowledge.model import BUTTON_MAX, LEAD_MAX_WORDS, LawSource, Seed, SeedSource, Topic

# Words that read as law, not advice: they belong in the details, not in the lead.
LEGALESE = ("menprövning", "står klart att", "generalklausul", "myndighetsutövning", "lydelse",
            "§", "sekretessbrytande", "rekvisit", "jämlikt")
FILE_NAME = re.compile(r"_[0-9a-f]{16}\.txt")
DAY = date(2026, 12, 7)


def test_every_lead_is_short_and_plain(real_kb: KnowledgeBase) -> None:
    for topic in real_kb.topics:
        assert len(topic.lead.split()) <= LEAD_MAX_WORDS, topic.id
        assert not [w for w in LEGALESE if w in topic.lead.lower()], topic.id
        # The short answer is not the long one cut short.
        assert topic.lead != topic.answer[: len(topic.lead)], topic.id


def test_every_topic_button_fits_teams_and_is_never_cut(real_kb: KnowledgeBase) -> None:
    msg = dialog_texts()
    for topic in real_kb.topics:
        for title in (
            topic.short_title,
            msg.text("answer.read_more", title=topic.short_title),
            dialog_texts().text("glossary.read_more", title=topic.short_title),
        ):
            assert len(title) <= BUTTON_MAX, title


def test_a_lead_over_60_words_is_refused_in_swedish() -> None:
    with pytest.raises(ValidationError, match="lead har 61 ord; högst 60"):
        Topic(
            id="x",
            title="Ett ämne",
            lead=" ".join(["ord"] * 61),
            short_title="Ett ämne",
            category="akut",
            answer="Ring 112 om barnet är i akut fara, och kontakta sedan socialtjänsten.",
            examples=["a", "b", "c"],
            sources=[SeedSource(seed="000")],
        )


def test_a_seed_name_is_no_file_name() -> None:
    with pytest.raises(ValidationError, match="inte ett filnamn"):
        Seed(id="000", file="000_a.txt", name="000_eb25900a9fa30eb9.txt", title="t",
             organisation="o", year="2007")


def test_sources_are_human_names_with_links(real_kb: KnowledgeBase) -> None:
    for topic in real_kb.topics:
        for src in topic.sources:
            cited = real_kb.cited(src)
            assert not FILE_NAME.search(cited.label), (topic.id, cited)
            if isinstance(src, LawSource):
                assert cited.url is not None and cited.url.startswith("https://"), cited
                assert "(" not in cited.label or src.law == "SoL 2001", cited  # no "(2025:400)"
    sol = LawSource(law="SoL", chapter=19, paragraph="1", valid_from=date(2025, 7, 1))
    assert real_kb.cite(sol) == "Socialtjänstlagen 19 kap. 1 §"
    assert real_kb.cite(SeedSource(seed="000")) == "Östermalms rutin 2007"
    # The technical citation stays where scripts read it (assess, ask --json).
    assert real_kb.short_cite(sol) == "SoL (2025:400) 19 kap. 1 §"


def test_a_law_without_its_own_link_gets_the_statute_by_sfs_number(
    real_kb: KnowledgeBase,
) -> None:
    law = real_kb.laws["OSL"].model_copy(update={"url": None})
    assert cite.law_url(law) == "https://rkrattsbaser.gov.se/sfst?bet=2009:400"


def test_the_rule_engine_references_read_as_human_names(real_kb: KnowledgeBase) -> None:
    sol = real_kb.cited_reference("SoL (2025:400) 19 kap. 6 § 2 st.")
    assert sol.label == "Socialtjänstlagen 19 kap. 6 § 2 st." and sol.url
    assert real_kb.cited_reference("003").label == "Lekebergs samverkansplan 2020"
    old = real_kb.cited_reference("SoL (2001:453) 14 kap. 1 §")
    assert old.label == "Socialtjänstlagen (2001:453) 14 kap. 1 §"
    assert real_kb.cited_reference("Praxis: ring 112").label == "Praxis: ring 112"
