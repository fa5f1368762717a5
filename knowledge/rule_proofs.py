"""The proofs on the assessment rules that `samverkan kb check` runs: facts for which each rule
version fires (a witness) in every period, and the dated cases' coverage of rules and dates.

`validate(directory)` (used by `samverkan kb check`) proves, beyond the schema, that every rule
version can fire for some combination of facts on every day it is valid, that a dated case in
rules/cases/*.yaml exercises it, that every date in the rule base has cases on both sides, and
that every case passes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from knowledge import texts
from knowledge.loader import Problem
from knowledge.model import LawSource
from knowledge.rule_cases import LoadedCase, default_cases_dir, load_cases, run_case
from knowledge.rule_file import DECISIONS, RULES_FILE, FactSpec, Rule, leaves, period_text
from knowledge.rules import RulesError, RuleSet, load_with_problems

# How many fact combinations the reachability proof may try for one rule in one period.
MAX_COMBINATIONS = 1 << 20


def validate(directory: Path | None = None, *, cases: Path | None = None) -> list[Problem]:
    """Every problem with the rules: schema and sources, reachability, tests, dated coverage.

    `cases` is the directory of dated YAML cases (default: rules/cases beside the rules).
    """
    ruleset, problems = load_with_problems(directory)
    if ruleset is None:
        return problems
    problems.extend(_check_reachable(ruleset))

    case_dir = cases if cases is not None else default_cases_dir(directory)
    if not case_dir.is_dir() or not any(case_dir.glob("*.yaml")):
        problems.append(
            Problem(
                str(case_dir),
                texts().text("rules.no_cases"),
            )
        )
        return problems
    # Cases beside the rules are shown as rules/cases/<file> (relative to the data directory).
    base = case_dir.resolve().parent.parent if cases is None else None
    loaded, case_problems = load_cases(case_dir, base)
    problems.extend(case_problems)
    problems.extend(_check_tested(ruleset, loaded))
    return problems


def _boundaries(ruleset: RuleSet) -> list[date]:
    """Every date on which a rule version or a cited provision starts or stops applying."""
    days = {ruleset.covers_from}
    for r in ruleset.rules:
        days.add(r.valid_from)
        if r.valid_until is not None:
            days.add(r.valid_until)
        for src in r.sources:
            if isinstance(src, LawSource):
                days.add(src.valid_from)
                if src.valid_until is not None:
                    days.add(src.valid_until)
    return sorted(d for d in days if d >= ruleset.covers_from)


def _segments(ruleset: RuleSet) -> list[tuple[date, date | None]]:
    b = _boundaries(ruleset)
    return [(start, b[i + 1] if i + 1 < len(b) else None) for i, start in enumerate(b)]


def _segment_of(segments: Sequence[tuple[date, date | None]], day: date) -> date | None:
    for start, end in segments:
        if start <= day and (end is None or day < end):
            return start
    return None


def _domain(spec: FactSpec, leaf_sets: list[frozenset[object]]) -> list[object]:
    """One value per way of satisfying the leaves that test `fact` (None = unknown)."""
    reps: dict[tuple[bool, ...], object] = {tuple(False for _ in leaf_sets): None}
    for v in spec.allowed():
        sig = tuple(v in s for s in leaf_sets)
        reps.setdefault(sig, v)
    return list(reps.values())


def witness(ruleset: RuleSet, rule: Rule, day: date) -> dict[str, object] | None:
    """Facts for which `rule` decides something on `day`, or None if none exist."""
    for d in DECISIONS:
        if not rule.decides(d) or not rule.valid_on(day):
            continue
        ahead = [
            r
            for r in ruleset._ordered[d]
            if r.valid_on(day) and (r.priority, r.index) < (rule.priority, rule.index)
        ]
        involved = [rule, *ahead]
        leaf_sets: dict[str, list[frozenset[object]]] = {}
        for r in involved:
            for leaf in leaves(r.condition):
                leaf_sets.setdefault(leaf.fact, []).append(leaf.values)
        names = sorted(leaf_sets)
        domains = [_domain(ruleset.facts[n], leaf_sets[n]) for n in names]
        total = 1
        for dom in domains:
            total *= len(dom)
        if total > MAX_COMBINATIONS:
            raise RulesError(texts().text("rules.too_many_combinations", count=total))
        for combo in itertools.product(*domains):
            facts = {n: v for n, v in zip(names, combo, strict=True) if v is not None}
            if rule.condition.holds(facts) and not any(r.condition.holds(facts) for r in ahead):
                return facts
    return None


def _check_reachable(ruleset: RuleSet) -> list[Problem]:
    out: list[Problem] = []
    for rule in ruleset.rules:
        for start, end in _segments(ruleset):
            if not rule.valid_on(start):
                continue
            try:
                found = witness(ruleset, rule, start)
            except RulesError as exc:
                during = texts().text(
                    "rules.in_period", period=period_text(start, end), problem=exc
                )
                out.append(Problem(rule.file, during, rule.id))
                continue
            if found is None:
                out.append(
                    Problem(
                        rule.file,
                        texts().text("rules.unreachable", period=period_text(start, end)),
                        rule.id,
                    )
                )
    return out


def _check_tested(ruleset: RuleSet, loaded: Sequence[LoadedCase]) -> list[Problem]:
    out: list[Problem] = []
    segments = _segments(ruleset)
    exercised: set[tuple[int, date]] = set()
    ids = {r.id for r in ruleset.rules}
    for lc in loaded:
        c = lc.case
        for rid in c.expect.rules:
            if rid not in ids:
                out.append(Problem(lc.file, texts().text("case.unknown_rule", rule=rid), c.name))
        result = run_case(ruleset, c)
        for f in result.failures:
            failed = texts().text("case.failed", day=c.date.isoformat(), failure=f)
            out.append(Problem(lc.file, failed, c.name))
        if not result.failures:
            start = _segment_of(segments, c.date)
            exercised.update((id(r), start) for r in result.fired if start is not None)
    for rule in ruleset.rules:
        for start, end in segments:
            if rule.valid_on(start) and (id(rule), start) not in exercised:
                out.append(
                    Problem(
                        rule.file,
                        texts().text("rules.untested", period=period_text(start, end)),
                        rule.id,
                    )
                )
    case_days = sorted({lc.case.date for lc in loaded})
    bounds = _boundaries(ruleset)
    for i, b in enumerate(bounds):
        before_start = bounds[i - 1] if i > 0 else date.min
        after_end = bounds[i + 1] if i + 1 < len(bounds) else date.max
        if not any(before_start <= d < b for d in case_days):
            out.append(
                Problem(
                    str(RULES_FILE),
                    texts().text(
                        "rules.no_case_before",
                        day=b.isoformat(),
                        since=before_start.isoformat() if i > 0 else texts().text("rules.start"),
                    ),
                )
            )
        if not any(b <= d < after_end for d in case_days):
            missing = texts().text("rules.no_case_after", day=b.isoformat())
            out.append(Problem(str(RULES_FILE), missing))
    return out
