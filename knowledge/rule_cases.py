"""The dated rule cases (knowledge/data/rules/cases/*.yaml): facts on a day and the assessment
they must get; read, run and compared by pytest (tests/rules) and by `samverkan kb check`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from knowledge import texts
from knowledge.loader import DEFAULT_DIR, Problem, _read_yaml, _rel, _validate
from knowledge.model import Strict
from knowledge.rule_file import InformGuardians, Outcome, Rule, show_value
from knowledge.rules import DateOutOfRangeError, FactsError, RuleSet


class CaseExpect(Strict):
    outcome: Outcome | None = None
    inform_guardians: InformGuardians | None = None
    by_phone_today: bool | None = None
    rules: list[str] = []  # rule ids that must fire
    not_rules: list[str] = []  # rule ids that must not fire
    sources: list[str] = []  # citations that must be among the reasons' sources
    not_sources: list[str] = []  # citations that must not be cited (e.g. a law not yet in force)
    error: Literal["facts", "date"] | None = None
    message: str | None = None  # a part of the error message

    @model_validator(mode="after")
    def _shape(self) -> CaseExpect:
        if self.error is None:
            if self.outcome is None or self.inform_guardians is None or self.by_phone_today is None:
                raise ValueError(texts().text("rules.expect_incomplete"))
            if self.message is not None:
                raise ValueError(texts().text("rules.expect_message"))
        elif any(
            (
                self.outcome,
                self.inform_guardians,
                self.by_phone_today is not None,
                self.rules,
                self.not_rules,
                self.sources,
                self.not_sources,
            )
        ):
            raise ValueError(texts().text("rules.expect_error_only"))
        return self


class RuleCase(Strict):
    name: Annotated[str, Field(min_length=3)]
    date: date
    # The kommun whose view is assessed (RuleSet.for_kommun): its own documents may be cited,
    # another kommun's never; absent: no kommun (law and national guidance only).
    kommun: Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")] | None = None
    facts: Any = Field(default_factory=dict)
    expect: CaseExpect


class CaseFile(Strict):
    cases: Annotated[list[RuleCase], Field(min_length=1)]


@dataclass(frozen=True)
class LoadedCase:
    case: RuleCase
    file: str
    line: int | None = None


@dataclass(frozen=True)
class CaseResult:
    failures: list[str]
    fired: list[Rule]  # the rule versions that decided


CASES_DIR = Path("rules") / "cases"


def default_cases_dir(directory: Path | None = None) -> Path:
    """Where the dated rule cases live: beside the rules, in the knowledge data directory
    (rules/cases/*.yaml), so that an installed knowledge base carries its own proof."""
    return (Path(directory) if directory is not None else DEFAULT_DIR) / CASES_DIR


def load_cases(path: Path, base: Path | None = None) -> tuple[list[LoadedCase], list[Problem]]:
    """The cases of one YAML file or of every *.yaml file in a directory."""
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    root = base if base is not None else _display_root(path)
    problems: list[Problem] = []
    out: list[LoadedCase] = []
    for f in files:
        rel = _rel(f, root)
        data = _read_yaml(f, root, problems)
        cf = _validate(CaseFile, data, rel, problems) if data is not None else None
        if data is None and f.exists() and not any(p.file == rel for p in problems):
            problems.append(Problem(rel, texts().text("rules.empty_file")))
        if cf is None:
            continue
        lines = _case_lines(f)
        names: set[str] = set()
        for i, c in enumerate(cf.cases):
            if c.name in names:
                problems.append(Problem(rel, texts().text("rules.duplicate_case"), c.name))
            names.add(c.name)
            out.append(LoadedCase(c, rel, lines[i] if i < len(lines) else None))
    return out, problems


def _display_root(path: Path) -> Path:
    """Show case files relative to the working directory when they lie under it."""
    cwd = Path.cwd()
    resolved = path.resolve()
    if resolved.is_relative_to(cwd):
        return cwd
    return resolved if resolved.is_dir() else resolved.parent


def _case_lines(path: Path) -> list[int]:
    """Line numbers of each case (for test reports), from the YAML node tree."""
    import yaml

    from common.yaml_safe import FAST_SAFE_LOADER

    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=FAST_SAFE_LOADER)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "cases" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def run_case(ruleset: RuleSet, case: RuleCase) -> CaseResult:
    """Assess one case and compare with its expectation; an empty failure list means it passed."""
    exp = case.expect
    ruleset = ruleset.for_kommun(case.kommun)
    try:
        result = ruleset.assess(case.facts, day=case.date)
    except FactsError as exc:
        return _expected_error(exp, "facts", str(exc))
    except DateOutOfRangeError as exc:
        return _expected_error(exp, "date", str(exc))
    if exp.error is not None:
        return CaseResult(
            [texts().text(
                "case.expected_error",
                error=exp.error, outcome=result.outcome, guardians=result.inform_guardians,
            )],
            [],
        )
    fired = list(ruleset.decide(ruleset.check_facts(case.facts), case.date).values())
    failures: list[str] = []
    if result.outcome != exp.outcome:
        failures.append(texts().text("case.outcome", expected=exp.outcome, got=result.outcome))
    if result.inform_guardians != exp.inform_guardians:
        failures.append(texts().text(
            "case.guardians", expected=exp.inform_guardians, got=result.inform_guardians
        ))
    if result.by_phone_today != exp.by_phone_today:
        failures.append(texts().text(
            "case.phone",
            expected=show_value(exp.by_phone_today), got=show_value(result.by_phone_today),
        ))
    got_rules = [r.rule for r in result.reasons]
    for rid in exp.rules:
        if rid not in got_rules:
            fired_ids = ", ".join(got_rules)
            failures.append(texts().text("case.rule_not_fired", rule=rid, fired=fired_ids))
    for rid in exp.not_rules:
        if rid in got_rules:
            failures.append(texts().text("case.rule_fired", rule=rid))
    cited = [s for r in result.reasons for s in r.sources]
    for s in exp.sources:
        if s not in cited:
            failures.append(texts().text("case.source_missing", source=s, cited="; ".join(cited)))
    for s in exp.not_sources:
        if s in cited:
            failures.append(texts().text("case.source_cited", source=s))
    return CaseResult(failures, fired)


def _expected_error(exp: CaseExpect, kind: str, message: str) -> CaseResult:
    if exp.error is None:
        return CaseResult([texts().text("case.unexpected_error", message=message)], [])
    if exp.error != kind:
        wrong = texts().text("case.wrong_error", expected=exp.error, got=kind, message=message)
        return CaseResult([wrong], [])
    if exp.message is not None and exp.message.casefold() not in message.casefold():
        lacks = texts().text("case.message_lacks", part=exp.message, message=message)
        return CaseResult([lacks], [])
    return CaseResult([], [])

