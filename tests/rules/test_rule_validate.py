"""`knowledge.rule_proofs.validate` and `load_rules` on broken copies of the rule base: each
problem is found and named by file and rule id; the bundled rules and cases have none."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.loader import DEFAULT_DIR, KnowledgeError, Problem
from knowledge.rule_cases import default_cases_dir
from knowledge.rule_proofs import validate
from knowledge.rules import load_rules

CASES = DEFAULT_DIR / "rules" / "cases"
RULES = "rules/assessment.yaml"

Mutation = Callable[[dict[str, Any]], None]


def make_kb(tmp_path: Path, mutate: Mutation | None = None) -> Path:
    """A copy of the bundled laws, seeds and rules, with the rules file changed by `mutate`."""
    kb = tmp_path / "kb"
    (kb / "rules").mkdir(parents=True)
    for name in ("laws.yaml", "seeds.yaml"):
        shutil.copy(DEFAULT_DIR / name, kb / name)
    data = yaml.safe_load((DEFAULT_DIR / RULES).read_text(encoding="utf-8"))
    if mutate is not None:
        mutate(data)
    (kb / RULES).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return kb


def rule(data: dict[str, Any], rule_id: str, valid_from: date | None = None) -> dict[str, Any]:
    for r in data["rules"]:
        if r["id"] == rule_id and (valid_from is None or r["valid_from"] == valid_from):
            return r
    raise KeyError(rule_id)


def messages(problems: list[Problem], rule_id: str | None = None) -> list[str]:
    return [p.message for p in problems if rule_id is None or p.topic == rule_id]


def test_bundled_rules_and_cases_have_no_problems() -> None:
    assert default_cases_dir() == CASES
    assert validate(DEFAULT_DIR) == []
    assert validate() == []


def test_an_unchanged_copy_has_no_problems(tmp_path: Path) -> None:
    assert validate(make_kb(tmp_path), cases=CASES) == []


@pytest.mark.parametrize(
    ("mutate", "rule_id", "expected"),
    [
        (
            lambda d: rule(d, "akut-fara").update(when={"acute_dangerr": True}),
            "akut-fara",
            "okänt faktum 'acute_dangerr' i villkoret",
        ),
        (
            lambda d: rule(d, "konsultera").update(when={"certainty": "maybe"}),
            "konsultera",
            "'certainty' kan bara vara en av unsure, suspect, know",
        ),
        (
            lambda d: rule(d, "akut-fara").update(when={"child_disclosed": "yes"}),
            "akut-fara",
            "'child_disclosed' kan bara vara true eller false",
        ),
        (
            lambda d: rule(d, "akut-fara").update(when={"acute_danger": "yes"}),
            "akut-fara",
            "'acute_danger' kan bara vara en av true, false, \"unsure\"",
        ),
        (
            lambda d: rule(d, "akut-fara").update(when={"ref": "missing"}),
            "akut-fara",
            "okänt villkor 'missing'",
        ),
        (
            lambda d: rule(d, "akut-fara").update(when={"all": []}),
            "akut-fara",
            "'all' ska följas av en lista",
        ),
        (
            lambda d: rule(d, "akut-fara").update(when={"acute_danger": True, "neglect": True}),
            "akut-fara",
            "exakt en nyckel",
        ),
    ],
    ids=[
        "unknown-fact",
        "bad-choice",
        "bad-boolean",
        "bad-mixed-choice",
        "unknown-ref",
        "empty-all",
        "two-keys",
    ],
)
def test_bad_conditions_are_named_by_rule(
    tmp_path: Path, mutate: Mutation, rule_id: str, expected: str
) -> None:
    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    assert any(expected in m for m in messages(problems, rule_id)), problems
    assert all(p.file == RULES for p in problems if p.topic == rule_id)
    with pytest.raises(KnowledgeError) as info:
        load_rules(make_kb(tmp_path / "again", mutate))
    assert expected in str(info.value) and f"[{rule_id}]" in str(info.value)


def test_a_cycle_between_named_conditions(tmp_path: Path) -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["conditions"]["a"] = {"ref": "b"}
        d["conditions"]["b"] = {"any": [{"ref": "a"}, {"neglect": True}]}

    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    assert any("slinga" in m for m in messages(problems)), problems


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: rule(d, "akut-fara").pop("text"), "obligatoriskt fält saknas: text"),
        (lambda d: rule(d, "akut-fara").update(colour="red"), "okänd nyckel 'colour'"),
        (lambda d: rule(d, "akut-fara").update(sets={"outcome": "panic"}), "sets.outcome"),
        (lambda d: rule(d, "akut-fara").update(sets={}), "sets måste ange"),
        (lambda d: rule(d, "akut-fara").update(valid_from="2020-13-01"), "ogiltigt datum"),
        (
            lambda d: rule(d, "akut-fara").update(sources=[{"guidance": "bara praxis"}]),
            "minst en källa måste vara ett seed-dokument eller ett lagrum",
        ),
    ],
    ids=["missing-text", "extra-key", "bad-outcome", "sets-nothing", "bad-date", "only-guidance"],
)
def test_schema_errors_name_the_rule(tmp_path: Path, mutate: Mutation, expected: str) -> None:
    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    assert any(expected in m for m in messages(problems, "akut-fara")), problems


def test_unknown_law_and_seed(tmp_path: Path) -> None:
    def mutate(d: dict[str, Any]) -> None:
        rule(d, "konsultera")["sources"] += [
            {"law": "BrB", "chapter": 3, "paragraph": "1", "valid_from": "2020-01-01"},
            {"seed": "999"},
        ]

    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    found = messages(problems, "konsultera")
    assert any("okänd lag 'BrB'" in m for m in found), problems
    assert any("okänt seed-dokument '999'" in m for m in found), problems


def test_law_sources_must_fit_the_rule_and_the_law(tmp_path: Path) -> None:
    def mutate(d: dict[str, Any]) -> None:
        current = rule(d, "anmalningsplikt", date(2026, 1, 15))
        current["sources"].append(
            {
                "law": "SoL 2001",
                "chapter": 14,
                "paragraph": "1",
                "valid_from": "2002-01-01",
                "valid_until": "2025-07-01",
            }
        )
        current["sources"].append(
            {"law": "SoL", "chapter": 19, "paragraph": "6", "valid_from": "2024-01-01"}
        )
        # The middle version loses its law citations for its first month.
        middle = rule(d, "anmalningsplikt", date(2025, 7, 1))
        for src in middle["sources"]:
            if "law" in src:
                src["valid_from"] = "2025-08-01"

    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    found = messages(problems, "anmalningsplikt")
    assert any("källan gäller inte någon dag då regeln gäller" in m for m in found), problems
    assert any("före lagens ikraftträdande 2025-07-01" in m for m in found), problems
    assert any("inget lagrum gäller 2025-07-01" in m for m in found), problems


def test_a_repealed_law_must_end(tmp_path: Path) -> None:
    def mutate(d: dict[str, Any]) -> None:
        for src in rule(d, "konsultera")["sources"]:
            if src.get("law") == "SoL 2001":
                del src["valid_until"]

    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    assert any("upphävdes 2025-07-01" in m for m in messages(problems, "konsultera")), problems


def test_overlapping_versions(tmp_path: Path) -> None:
    def mutate(d: dict[str, Any]) -> None:
        rule(d, "anmalningsplikt", date(2025, 7, 1))["valid_from"] = date(2025, 6, 1)

    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    assert any("två versioner gäller samtidigt" in m for m in messages(problems, "anmalningsplikt"))


def test_a_rule_before_the_rule_base_starts(tmp_path: Path) -> None:
    def mutate(d: dict[str, Any]) -> None:
        rule(d, "akut-fara")["valid_from"] = date(2019, 1, 1)

    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    assert any("före covers_from" in m for m in messages(problems, "akut-fara")), problems


def test_equal_priorities_are_ambiguous(tmp_path: Path) -> None:
    def mutate(d: dict[str, Any]) -> None:
        rule(d, "nya-uppgifter")["priority"] = 10

    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    assert any("samma prioritet (10)" in m for m in messages(problems)), problems


def test_a_missing_default_is_found(tmp_path: Path) -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["rules"] = [r for r in d["rules"] if r["id"] != "konsultera"]

    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    assert any(
        "ingen standardregel (utan when) avgör outcome från 2020-01-01" in m
        for m in messages(problems)
    ), problems


def test_a_default_that_ends_leaves_a_gap(tmp_path: Path) -> None:
    def mutate(d: dict[str, Any]) -> None:
        rule(d, "vardnadshavare-oppenhet")["valid_until"] = date(2030, 1, 1)

    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    assert any("avgör inform_guardians från 2030-01-01" in m for m in messages(problems))


def test_shadowed_rules_are_unreachable(tmp_path: Path) -> None:
    def mutate(d: dict[str, Any]) -> None:
        rule(d, "konsultera")["priority"] = 5  # the default now decides every outcome

    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    for rid in ("akut-fara", "anmalningsplikt", "nya-uppgifter"):
        assert any("kan aldrig slå till" in m for m in messages(problems, rid)), (rid, problems)


def test_a_rule_unreachable_only_in_a_later_period(tmp_path: Path) -> None:
    def mutate(d: dict[str, Any]) -> None:
        # From 2026-01-15 a new top rule sends every known suspicion to report first.
        d["rules"].append(
            {
                "id": "allt-anmals",
                "priority": 1,
                "valid_from": date(2026, 1, 15),
                "when": {"any": [{"already_reported": True}, {"already_reported": False}]},
                "sets": {"outcome": "report"},
                "text": "En påhittad regel för testet som tar över alla tidigare anmälningar.",
                "sources": [{"seed": "000"}, {"guidance": "Påhittad vägledning för testet"}],
            }
        )
        rule(d, "nya-uppgifter")["when"] = {"already_reported": True}

    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    found = messages(problems, "nya-uppgifter")
    assert any("kan aldrig slå till från 2026-01-15" in m for m in found), problems
    assert not any("2020-01-01–" in m and "kan aldrig" in m for m in found), problems


def test_rules_without_cases_and_dates_without_both_sides(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "one.yaml").write_text(
        "cases:\n"
        "  - name: bara ett fall\n"
        "    date: 2026-03-01\n"
        "    facts: {certainty: unsure}\n"
        "    expect: {outcome: consult, inform_guardians: usually, by_phone_today: false}\n",
        encoding="utf-8",
    )
    problems = validate(DEFAULT_DIR, cases=cases)
    untested = {p.topic for p in problems if "inget godkänt testfall" in p.message}
    assert untested == {
        "akut-fara",
        "kannedom",
        "anmalningsplikt",
        "nya-uppgifter",
        "konsultera",  # tested after 2026-01-15 only
        "vardnadshavare-vid-fara",
        "vardnadshavare-efter-socialtjansten",
        "vardnadshavare-oppenhet",
        "ring-i-dag-fara",
        "ring-i-dag-hemma",
        "skriftligt",  # tested after 2026-01-15 only
    }
    sides = [p.message for p in problems if p.topic is None]
    assert "inget testfall dagarna före 2020-01-01 (från början)" in sides
    assert "inget testfall från och med 2025-07-01" in sides
    assert any("dagarna före 2026-01-15" in m for m in sides)
    assert "inget testfall från och med 2026-01-15" not in sides


def test_a_failing_case_is_a_problem(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    shutil.copytree(CASES, cases)
    (cases / "wrong.yaml").write_text(
        "cases:\n"
        "  - name: fel förväntan\n"
        "    date: 2026-03-01\n"
        "    facts: {neglect: true, certainty: suspect}\n"
        "    expect: {outcome: consult, inform_guardians: usually, by_phone_today: true,\n"
        "             rules: [finns-inte]}\n",
        encoding="utf-8",
    )
    problems = validate(DEFAULT_DIR, cases=cases)
    found = [p for p in problems if p.topic == "fel förväntan"]
    assert any("väntade consult, fick report" in p.message for p in found), problems
    assert any("by_phone_today: väntade true, fick false" in p.message for p in found), problems
    assert any("okänd regel 'finns-inte'" in p.message for p in found), problems
    assert all(p.file.endswith("wrong.yaml") for p in found)


def test_bad_case_files(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    shutil.copytree(CASES, cases)
    (cases / "bad.yaml").write_text(
        "cases:\n"
        "  - name: saknar förväntan\n"
        "    date: 2026-03-01\n"
        "    facts: {}\n"
        "  - name: fel och utfall samtidigt\n"
        "    date: 2026-03-01\n"
        "    expect: {error: facts, outcome: report}\n",
        encoding="utf-8",
    )
    (cases / "broken.yaml").write_text("cases: [\n", encoding="utf-8")
    problems = validate(DEFAULT_DIR, cases=cases)
    bad = [p.message for p in problems if p.file.endswith("bad.yaml")]
    assert any("expect" in m for m in bad), problems
    assert any("kan inte också ange" in m for m in bad), problems
    assert any(p.file.endswith("broken.yaml") and "ogiltig YAML" in p.message for p in problems)


def test_no_cases_at_all(tmp_path: Path) -> None:
    problems = validate(DEFAULT_DIR, cases=tmp_path / "nowhere")
    assert len(problems) == 1 and "hittar inga regeltester" in problems[0].message


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    kb = make_kb(tmp_path)
    (kb / RULES).unlink()
    problems = validate(kb, cases=CASES)
    assert [(p.file, p.message) for p in problems] == [(RULES, "filen saknas")]
    with pytest.raises(KnowledgeError):
        load_rules(kb)

    (kb / RULES).write_text("rules: [\n", encoding="utf-8")
    assert any("ogiltig YAML" in p.message for p in validate(kb, cases=CASES))

    (kb / RULES).write_text("", encoding="utf-8")
    assert [p.message for p in validate(kb, cases=CASES)] == ["filen är tom"]


def test_a_stray_rule_file_is_reported(tmp_path: Path) -> None:
    kb = make_kb(tmp_path)
    (kb / "rules" / "lokal-rutin.yaml").write_text("rules: []\n", encoding="utf-8")
    problems = validate(kb, cases=CASES)
    assert [p.file for p in problems] == ["rules/lokal-rutin.yaml"]


def test_a_rule_resting_only_on_a_kommun_s_document_is_refused(tmp_path: Path) -> None:
    # Lekeberg's plan (003) is cited for Lekeberg only: elsewhere such a rule would have no source.
    def mutate(d: dict[str, Any]) -> None:
        rule(d, "vardnadshavare-oppenhet")["sources"] = [{"seed": "003"}]

    problems = validate(make_kb(tmp_path, mutate), cases=CASES)
    found = messages(problems, "vardnadshavare-oppenhet")
    assert any("bara till kommuners egna dokument" in m for m in found), problems


def test_a_new_dated_rule_is_data_not_code(tmp_path: Path) -> None:
    """A local routine from 2027: add it to the data and it applies from its date."""

    def mutate(d: dict[str, Any]) -> None:
        d["rules"].append(
            {
                "id": "lokal-rutin-franvaro",
                "priority": 25,
                "valid_from": date(2027, 1, 1),
                "when": {"all": [{"school_absence": True}, {"certainty": "unsure"}]},
                "sets": {"outcome": "report"},
                "text": "Enligt kommunens rutin från 2027 anmäls stor frånvaro även vid osäkerhet.",
                "sources": [{"seed": "003"}, {"guidance": "Påhittad nationell vägledning 2027"}],
            }
        )

    rules = load_rules(make_kb(tmp_path, mutate))
    facts = {"school_absence": True, "certainty": "unsure"}
    assert rules.assess(facts, day=date(2026, 12, 31)).outcome == "consult"
    after = rules.assess(facts, day=date(2027, 1, 1))
    assert after.outcome == "report" and after.reasons[0].rule == "lokal-rutin-franvaro"
    # ...and kb check then asks for cases of it, and of the other rules from its date on.
    problems = validate(make_kb(tmp_path / "again", mutate), cases=CASES)
    untested = {p.topic for p in problems if "slå till från 2027-01-01" in p.message}
    assert {"lokal-rutin-franvaro", "konsultera", "akut-fara"} <= untested, problems
