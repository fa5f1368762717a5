"""Never another kommun's routine or source: for each example kommun, and for no kommun at all,
every output of the knowledge base is walked – every topic's answer card, its terminal answer
(`samverkan ask`) and its contract sources (`ask --json`), every glossary card, every node of every
guided dialog with its sources, every version of every assessment rule with its "Varför?" card,
and `samverkan assess --json` – and none may name another kommun, its units, its documents or
forums, or cite its seed document. Without a kommun, no kommun is named at all: the national
layer holds law and national guidance only.

Allowed everywhere: the county and region of Stockholm ("Stockholms län", "Region Stockholm"),
which made the regional BUS agreement the contract topic `bus` is about – a region, not a kommun.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from cli.commands.assess import run as assess
from cli.commands.knowledge import render_topic
from common.catalogue import Catalogue
from dialogs.answers import TopicCards
from dialogs.flows import OutcomeNode, load_flows
from knowledge.kommun import Kommuner, sources_json, with_profile
from knowledge.loader import KnowledgeBase
from knowledge.rule_cases import default_cases_dir, load_cases
from knowledge.rules import RuleSet, load_rules
from tests.kommun.conftest import DAY, EXAMPLES, card_text

MODES = (*EXAMPLES, None)
# Proper nouns of one kommun's local layer that its data does not list as a name of its own
# (a school, a local model's name).
PROPER_NOUNS = {
    "stockholm": ["Östermalm", "Norrmalm", "Kungsholmen", "Engelbrekt", "familjeenheten"],
    "ekero": ["PRISMA", "Ekerö"],
    "lekeberg": ["LEFA", "Lekebergsskolan", "Lekeberg"],
}
REGIONS = re.compile(r"Stockholms län|Region Stockholm")


def foreign_names(kommuner: Kommuner, kb: KnowledgeBase, own: str | None) -> list[str]:
    """Every name that must not appear in `own`'s answers: the other kommuner's names, units,
    organisations, documents and forums, and the seed documents `own` may not cite."""
    names: list[str] = []
    for kommun_id, p in kommuner.profiles.items():
        if kommun_id == own:
            continue
        names += [p.info.name, p.info.short_name, p.info.organisation.name]
        names += [u.name for u in p.info.organisation.units]
        names += [d.title for d in p.info.documents] + [d.organisation for d in p.info.documents]
        names += [f.name for f in p.forums] + PROPER_NOUNS.get(kommun_id, [])
    for seed in kb.seeds.values():
        if not seed.shown_in(own):
            names += [seed.name, seed.title, seed.organisation, seed.file]
    return list(dict.fromkeys(names))


def leaks(text: str, names: list[str]) -> list[str]:
    """The forbidden names in `text` (a short name as a word: "Stockholm" also as
    "Stockholms", but not inside the region's names), each with its context."""
    text = REGIONS.sub("", text)
    found = []
    for name in names:
        for m in re.finditer(rf"(?<!\w){re.escape(name)}", text):
            found.append(f"{name!r}: …{text[max(0, m.start() - 50) : m.end() + 50]}…")
    return found


def kb_for(national: KnowledgeBase, kommuner: Kommuner, own: str | None) -> KnowledgeBase:
    return national if own is None else with_profile(national, kommuner.profiles[own])


def topic_days(kb: KnowledgeBase) -> list[tuple[Any, date]]:
    """Every version of every topic, with a day it applies."""
    out = []
    for topic in kb.topics:
        day = DAY if topic.valid_on(DAY) else topic.valid_from
        assert day is not None and topic.valid_on(day), topic.id
        out.append((topic, day))
    return out


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


@pytest.mark.parametrize("own", MODES, ids=lambda k: k or "ingen-kommun")
def test_topics_glossary_and_flows_name_no_other_kommun(
    national: KnowledgeBase, kommuner: Kommuner, messages: Catalogue, own: str | None
) -> None:
    kb = kb_for(national, kommuner, own)
    names = foreign_names(kommuner, kb, own)
    cards = TopicCards(kb, messages)
    found: list[str] = []
    for topic, day in topic_days(kb):
        outputs = {
            "card": card_text(cards.answer_card(topic, day)),
            "ask": render_topic(topic, kb, day),
            "ask --json": json.dumps(sources_json(kb, topic, day), ensure_ascii=False),
        }
        for where, text in outputs.items():
            found += [f"{topic.id} ({where}) {leak}" for leak in leaks(text, names)]
        assert all(s["kommun"] in (None, own) for s in sources_json(kb, topic, day))
    terms = [*(kb.kommun.terms() if kb.kommun else []), *kb.glossary.terms]
    for term in terms:
        text = card_text(cards.glossary_card(term, DAY))
        found += [f"ordlistan {term.term}: {leak}" for leak in leaks(text, names)]
    for flow in load_flows(kb.directory).values():
        for node_id, node in flow.nodes.items():
            text = json.dumps(node.model_dump(exclude={"sources"}), ensure_ascii=False)
            if isinstance(node, OutcomeNode) and node.sources:
                text += card_text({"body": cards.sources_block(node.sources, DAY)})
            found += [f"{flow.id}/{node_id}: {leak}" for leak in leaks(text, names)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("own", MODES, ids=lambda k: k or "ingen-kommun")
def test_every_rule_cites_no_other_kommun(
    national: KnowledgeBase,
    kommuner: Kommuner,
    messages: Catalogue,
    rules: RuleSet,
    own: str | None,
) -> None:
    kb = kb_for(national, kommuner, own)
    names = foreign_names(kommuner, kb, own)
    view = rules.for_kommun(own)
    cards = TopicCards(kb, messages)
    found: list[str] = []
    for rule in view.rules:
        last = (rule.valid_until or DAY + timedelta(days=1)) - timedelta(days=1)
        for day in {rule.valid_from, last}:
            reason = view.reason(rule, day)
            refused = [s for s in reason.sources if s in kb.seeds and not kb.seeds[s].shown_in(own)]
            assert not refused, (rule.id, day, refused)
            assert any(s not in kb.seeds for s in reason.sources), (rule.id, day)  # law/guidance
            text = "\n".join([reason.text, *reason.sources])
            text += card_text(cards.reasons_card([reason.to_json()], day))
            found += [f"{rule.id} {day}: {leak}" for leak in leaks(text, names)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("own", EXAMPLES)
def test_assess_cites_only_the_chosen_kommun(
    national: KnowledgeBase, kommuner: Kommuner, tmp_path: Path, own: str
) -> None:
    # Every fact set of the dated rule cases, through `samverkan assess --batch --kommun`.
    cases, problems = load_cases(default_cases_dir())
    assert not problems
    batch = tmp_path / "facts.jsonl"
    facts = [json.dumps(lc.case.facts) for lc in cases if lc.case.expect.error is None]
    batch.write_text("\n".join(facts) + "\n", encoding="utf-8")
    names = foreign_names(kommuner, national, own)
    out, err = io.StringIO(), io.StringIO()
    args = argparse.Namespace(batch=str(batch), facts=None, date=DAY.isoformat(), kommun=own)
    assert assess(args, stdout=out, stderr=err) == 0, err.getvalue()
    cited: set[str] = set()
    for line in out.getvalue().splitlines():
        for reason in json.loads(line)["reasons"]:
            cited.update(reason["sources"])
            assert not leaks(reason["text"] + " ".join(reason["sources"]), names), reason
    seeds = {s for s in cited if s in national.seeds}
    assert all(national.seeds[s].kommun == own for s in seeds), (own, seeds)
    if own == "lekeberg":  # its plan: consult before contacting guardians in violence/honour
        assert "003" in cited
    else:
        assert "003" not in cited


def test_assess_refuses_an_unknown_kommun(capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    code = main(["assess", "--facts", '{"neglect": true}', "--kommun", "ingenstans"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert "ingenstans" in captured.err and "unknown-kommun" in captured.err


@pytest.mark.parametrize("own", EXAMPLES)
async def test_concern_outcome_and_why_cite_no_other_kommun(
    national: KnowledgeBase, kommuner: Kommuner, messages: Catalogue, rules: RuleSet, own: str
) -> None:
    # Violence at home that the child has told about: the rule "consult socialtjänsten before
    # the guardians" fires, which Lekeberg's plan (003) also says – named for Lekeberg only.
    from common.clock import FixedClock
    from dialogs import cards as c
    from tests.dialogs.conftest import WEEKDAY_MORNING, Talk, make_router
    from tests.dialogs.test_concern_assessment import walk
    from tests.kommun.conftest import kommun_kb

    kb, index = kommun_kb(national, kommuner, own)
    clock = FixedClock(WEEKDAY_MORNING)
    talk = Talk(router=make_router(kb, index, rules.for_kommun(own), messages, clock), clock=clock)
    dialog = await walk(talk, {"violence_by_guardian": True, "child_disclosed": True})
    assert dialog["vars"]["inform_guardians"] == "consult_first"
    outcome = talk.texts()
    why = talk.texts(await talk.send(talk.incoming(value={"action": c.FLOW_WHY})))
    names = foreign_names(kommuner, kb, own)
    assert not leaks(outcome + why, names)
    lekeberg = kb.seeds["003"].name
    assert (lekeberg in why) == (own == "lekeberg"), why


async def test_the_server_gives_each_kommun_its_own_rules(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from common.clock import FixedClock
    from samverkan.kommun_router import KommunRouter
    from samverkan.services import build_services
    from samverkan.settings import Settings

    s = Settings(  # type: ignore[call-arg]
        SAMVERKAN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        SAMVERKAN_KOMMUN="stockholm",
        SAMVERKAN_TENANT_KOMMUNER='{"t-ekero": "ekero", "t-lekeberg": "lekeberg"}',
    )
    services = await build_services(s, clock=FixedClock(datetime(2026, 3, 3, 8, tzinfo=UTC)))
    try:
        assert isinstance(services.router, KommunRouter)
        for kommun_id, router in services.router.routers.items():
            assert router.rules.kommun == kommun_id  # type: ignore[attr-defined]
    finally:
        await services.close()


@pytest.mark.parametrize("own", EXAMPLES)
def test_a_kommun_word_is_explained_only_in_its_own_bot(
    national: KnowledgeBase, kommuner: Kommuner, own: str
) -> None:
    from tests.kommun.conftest import kommun_kb

    _, index = kommun_kb(national, kommuner, own)
    lefa = index.explain_term("Vad betyder LEFA?")
    assert (lefa is not None) == (own == "lekeberg")
    two = index.explain_term("Vad är 2+2?")  # a national term; Lekeberg explains its own meetings
    assert two is not None and ("Lekeberg" in two.explanation) == (own == "lekeberg")
