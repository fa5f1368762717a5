"""The rule engine on the bundled rules: API, dated versions, facts checking, and agreement with
an independent reading of shared/spec/assessment.md on arbitrary facts and days."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.loader import DEFAULT_DIR
from knowledge.rule_proofs import witness
from knowledge.rules import (
    Assessment,
    DateOutOfRangeError,
    FactsError,
    Reason,
    RuleSet,
    load_rules,
)

SPEC_FACTS = {
    "acute_danger",
    "child_disclosed",
    "violence_by_guardian",
    "violence_by_other",
    "sexual_abuse",
    "honor_context",
    "domestic_violence_witnessed",
    "neglect",
    "self_destructive",
    "peer_abuse",
    "school_absence",
    "certainty",
    "already_reported",
    "new_information",
}
INDICATORS = [
    "violence_by_guardian",
    "violence_by_other",
    "sexual_abuse",
    "honor_context",
    "domestic_violence_witnessed",
    "neglect",
    "self_destructive",
    "peer_abuse",
    "school_absence",
]
FROM_HOME = ["violence_by_guardian", "sexual_abuse", "honor_context", "domestic_violence_witnessed"]
BOOLEAN_FACTS = sorted(SPEC_FACTS - {"certainty", "acute_danger"})


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def reference(facts: dict[str, Any]) -> tuple[str, str, bool]:
    """assessment.md's six rules (revised 2026-12-07), written independently of the data file."""

    def yes(name: str) -> bool:
        return facts.get(name) is True

    acute = facts.get("acute_danger")
    certainty = facts.get("certainty")
    indicator = any(yes(i) for i in INDICATORS)
    from_home = any(yes(f) for f in FROM_HOME)
    if acute is True:
        outcome = "emergency"
    elif (
        yes("child_disclosed")
        or certainty == "know"
        or (indicator and certainty in ("suspect", None))
        or (yes("already_reported") and yes("new_information"))
    ):
        outcome = "report"
    else:
        outcome = "consult"
    guardians = "consult_first" if acute in (True, "unsure") or from_home else "usually"
    phone = (
        outcome == "emergency" or acute == "unsure" or (outcome == "report" and from_home)
    )
    return outcome, guardians, phone


fact_values = st.fixed_dictionaries(
    {},
    optional={
        **{name: st.sampled_from([True, False, None]) for name in BOOLEAN_FACTS},
        "acute_danger": st.sampled_from([True, False, "unsure", None]),
        "certainty": st.sampled_from(["unsure", "suspect", "know", None]),
    },
)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31))


@settings(max_examples=600, deadline=None)
@given(facts=fact_values, day=days)
def test_engine_agrees_with_the_spec(rules: RuleSet, facts: dict[str, Any], day: date) -> None:
    result = rules.assess(facts, day=day)
    assert (result.outcome, result.inform_guardians, result.by_phone_today) == reference(facts)
    # One reason per decision, outcome first; each names its sources, at least one of them law
    # (the default "skriftligt" rule rests on the seed and on practice).
    assert 1 <= len(result.reasons) <= 3
    for reason in result.reasons:
        assert reason.text and reason.sources
        assert reason.rule == "skriftligt" or any("§" in s for s in reason.sources), reason


def _indicator_patterns() -> list[dict[str, Any]]:
    """Every way the indicators can matter: none (absent or all false), each one alone (with the
    others absent or false), and each pair of one from the home with one that is not."""
    out: list[dict[str, Any]] = [{}, dict.fromkeys(INDICATORS, False)]
    for name in INDICATORS:
        out.append({name: True})
        out.append({**dict.fromkeys(INDICATORS, False), name: True})
    for home in FROM_HOME:
        for other in INDICATORS:
            if other not in FROM_HOME:
                out.append({home: True, other: True})
    return out


@pytest.mark.parametrize("day", [date(2020, 1, 1), date(2025, 7, 1), date(2026, 1, 15)], ids=str)
def test_engine_agrees_with_the_spec_on_every_structured_combination(
    rules: RuleSet, day: date
) -> None:
    """Exhaustive over acute danger, disclosure, certainty, earlier report and new information,
    with every indicator pattern: 17,000+ combinations in each period of the rule base."""
    import itertools

    checked = 0
    for acute, disclosed, certainty, reported, new, pattern in itertools.product(
        [None, True, False, "unsure"],
        [None, True, False],
        [None, "unsure", "suspect", "know"],
        [None, True, False],
        [None, True, False],
        _indicator_patterns(),
    ):
        facts = {
            "acute_danger": acute,
            "child_disclosed": disclosed,
            "certainty": certainty,
            "already_reported": reported,
            "new_information": new,
            **pattern,
        }
        result = rules.assess(facts, day=day)
        got = (result.outcome, result.inform_guardians, result.by_phone_today)
        assert got == reference(facts), facts
        checked += 1
    assert checked > 17_000


def test_the_facts_are_those_of_the_spec(rules: RuleSet) -> None:
    assert set(rules.facts) == SPEC_FACTS
    assert rules.facts["certainty"].values == ["unsure", "suspect", "know"]
    assert rules.facts["acute_danger"].values == [True, False, "unsure"]
    assert all(rules.facts[f].type == "boolean" for f in BOOLEAN_FACTS)


def test_assessment_json_is_exactly_the_contract_shape(rules: RuleSet) -> None:
    result = rules.assess(
        {"violence_by_guardian": True, "child_disclosed": True, "certainty": "know"},
        day=date(2026, 11, 22),
    )
    assert isinstance(result, Assessment)
    data = result.to_json()
    assert list(data) == ["outcome", "inform_guardians", "by_phone_today", "reasons"]
    assert data["outcome"] == "report" and data["inform_guardians"] == "consult_first"
    assert data["by_phone_today"] is True
    assert [r["rule"] for r in data["reasons"]] == [
        "kannedom",
        "vardnadshavare-efter-socialtjansten",
        "ring-i-dag-hemma",
    ]
    for r in data["reasons"]:
        assert list(r) == ["rule", "text", "sources"]
        assert all(isinstance(s, str) for s in r["sources"])
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert isinstance(result.reasons[0], Reason)


def test_citations_follow_the_law_in_force_on_the_day(rules: RuleSet) -> None:
    facts = {"neglect": True, "certainty": "suspect"}

    def cited(day: date) -> tuple[str, list[str]]:
        reason = rules.assess(facts, day=day).reasons[0]
        assert reason.rule == "anmalningsplikt"
        return reason.text, reason.sources

    text, sources = cited(date(2025, 6, 30))
    assert "2001:453" in text
    assert sources[0] == "SoL (2001:453) 14 kap. 1 § 1 st."
    assert not any("2025:400" in s for s in sources)

    text, sources = cited(date(2025, 7, 1))
    assert "2025:400" in text
    assert "SoL (2025:400) 19 kap. 1 §" in sources
    assert not any("2001:453" in s or "p. 4" in s for s in sources)

    assert cited(date(2026, 1, 14)) == cited(date(2025, 7, 1))

    text, sources = cited(date(2026, 1, 15))
    assert "skollagen" in text and "15 januari 2026" in text
    assert "SoL (2025:400) 19 kap. 1 § p. 4" in sources
    assert "SoL (2025:400) 19 kap. 1 §" not in sources


def test_sources_of_an_unversioned_rule_switch_on_the_day_the_law_changed(rules: RuleSet) -> None:
    before = rules.assess({"acute_danger": True}, day=date(2025, 6, 30)).reasons[0]
    after = rules.assess({"acute_danger": True}, day=date(2025, 7, 1)).reasons[0]
    assert before.rule == after.rule == "akut-fara"
    assert before.text == after.text
    assert "SoL (2001:453) 14 kap. 1 §" in before.sources
    assert "SoL (2025:400) 20 kap. 1 §" in after.sources
    assert not any("2001:453" in s for s in after.sources)


def test_sources_list_law_first_then_seeds_then_practice(rules: RuleSet) -> None:
    for reason in rules.assess({"acute_danger": True}, day=date(2026, 3, 1)).reasons:
        kinds = [0 if "§" in s else 1 if s.isdigit() else 2 for s in reason.sources]
        assert kinds == sorted(kinds), reason.sources


def test_a_day_before_the_rule_base_is_an_error(rules: RuleSet) -> None:
    assert rules.covers_from == date(2020, 1, 1)
    rules.assess({}, day=rules.covers_from)
    with pytest.raises(DateOutOfRangeError) as info:
        rules.assess({}, day=rules.covers_from - timedelta(days=1))
    assert "2020-01-01" in str(info.value) and "Konsultera socialtjänsten" in str(info.value)


def test_a_datetime_is_refused_as_day(rules: RuleSet) -> None:
    with pytest.raises(TypeError):
        rules.assess({}, day=datetime(2026, 3, 1, 12, 0))


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"name": True}, "okänt faktum 'name'; tillåtna fakta är acute_danger"),
        ({"neglect": "ja"}, "'neglect' ska vara true eller false"),
        ({"certainty": "maybe"}, "'certainty' ska vara en av unsure, suspect, know"),
        ({"acute_danger": 0}, "fick ett tal"),
        ({"acute_danger": "ja"}, '\'acute_danger\' ska vara en av true, false, "unsure"'),
        ({"a": 1, "b": 2}, "okända fakta 'a', 'b'"),
    ],
)
def test_bad_facts_give_a_clear_swedish_error(
    rules: RuleSet, facts: dict[str, Any], expected: str
) -> None:
    with pytest.raises(FactsError) as info:
        rules.assess(facts, day=date(2026, 3, 1))
    assert expected in str(info.value)


def test_every_problem_with_the_facts_is_listed_at_once(rules: RuleSet) -> None:
    with pytest.raises(FactsError) as info:
        rules.assess({"foo": True, "neglect": "x", "certainty": 3}, day=date(2026, 3, 1))
    assert len(info.value.problems) == 3


def test_values_are_never_echoed_in_errors(rules: RuleSet) -> None:
    secret = "Kalle Anka 20150101-1234"
    with pytest.raises(FactsError) as info:
        rules.assess({"certainty": secret, "neglect": secret}, day=date(2026, 3, 1))
    assert "20150101" not in str(info.value) and "Kalle" not in str(info.value)


def test_any_mapping_is_accepted_and_null_means_unknown(rules: RuleSet) -> None:
    facts = MappingProxyType({"neglect": True, "certainty": "unsure", "child_disclosed": None})
    assert rules.assess(facts, day=date(2026, 3, 1)).outcome == "consult"


def test_load_from_an_explicit_directory(rules: RuleSet) -> None:
    again = load_rules(DEFAULT_DIR)
    assert [(r.id, r.valid_from) for r in again.rules] == [
        (r.id, r.valid_from) for r in rules.rules
    ]


def test_every_rule_version_has_a_witness_that_makes_it_fire(rules: RuleSet) -> None:
    for rule in rules.rules:
        facts = witness(rules, rule, rule.valid_from)
        assert facts is not None, rule.id
        fired = [r.rule for r in rules.assess(facts, day=rule.valid_from).reasons]
        assert rule.id in fired, (rule.id, facts)


def test_the_reporting_duty_has_three_dated_versions(rules: RuleSet) -> None:
    versions = sorted(
        (r.valid_from, r.valid_until) for r in rules.rules if r.id == "anmalningsplikt"
    )
    assert versions == [
        (date(2020, 1, 1), date(2025, 7, 1)),
        (date(2025, 7, 1), date(2026, 1, 15)),
        (date(2026, 1, 15), None),
    ]
