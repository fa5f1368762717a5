"""The concern assessment as rules in data (knowledge/data/rules/assessment.yaml) and its engine.

The guided dialog "Jag är orolig för ett barn", the console chat and `samverkan assess` all call
`RuleSet.assess`, so they give the same answer. The facts and the assessment are fixed by
shared/spec/assessment.md; the rules, their dates and their sources are data.

Semantics (also documented at the top of the rules file):

- For each decision (`outcome`, `inform_guardians`, `by_phone_today`) the rule versions valid on
  the assessment day are tried in ascending priority; the first whose condition holds decides and
  becomes a `Reason`.
- A fact that is absent or null is unknown: it satisfies no leaf of a condition.
- A day before the rule base's `covers_from` raises `DateOutOfRangeError`: there is no assessment
  for such a day rather than one that may be silently wrong.
- Facts are validated: an unknown fact name or a value of the wrong type raises `FactsError`,
  whose message lists what is allowed. Values are never echoed (privacy: they could be free text).

The rule file's schema, its conditions and the checks of one file are knowledge.rule_file; the
proofs `samverkan kb check` runs on the rules are knowledge.rule_proofs, and the dated cases
they use knowledge.rule_cases.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from knowledge import texts
from knowledge.loader import (
    DEFAULT_DIR,
    KnowledgeError,
    Problem,
    _read_yaml,
    _rel,
    _validate,
    cite_law,
)
from knowledge.model import (
    GuidanceSource,
    Law,
    LawsFile,
    LawSource,
    Seed,
    SeedsFile,
    SeedSource,
)
from knowledge.rule_file import (
    DECISIONS,
    KEYWORDS,
    RULES_FILE,
    Always,
    Condition,
    ConditionCompiler,
    ConditionError,
    Decision,
    FactSpec,
    InformGuardians,
    Outcome,
    Rule,
    check_sources,
    check_versions,
    parse_rules_file,
    same_value,
)

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Reason:
    """A rule that fired: its id, its sentence for staff, its sources as users see them."""

    rule: str
    text: str
    sources: list[str]  # "SoL (2025:400) 19 kap. 1 §", "003", or a guidance line

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "text": self.text, "sources": list(self.sources)}


@dataclass(frozen=True)
class Assessment:
    outcome: Outcome
    inform_guardians: InformGuardians
    by_phone_today: bool
    reasons: list[Reason]

    def to_json(self) -> dict[str, Any]:
        """The contract shape of `samverkan assess` (shared/spec/contracts.md)."""
        return {
            "outcome": self.outcome,
            "inform_guardians": self.inform_guardians,
            "by_phone_today": self.by_phone_today,
            "reasons": [r.to_json() for r in self.reasons],
        }


class RulesError(Exception):
    """An assessment could not be made; the message is Swedish and fit to show a user."""


class FactsError(RulesError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class DateOutOfRangeError(RulesError):
    def __init__(self, day: date, covers_from: date) -> None:
        self.day = day
        self.covers_from = covers_from
        super().__init__(texts().text(
            "rules.date_out_of_range", covers_from=covers_from.isoformat(), day=day.isoformat()
        ))


# --------------------------------------------------------------------------- rule set


def _source_valid_on(src: SeedSource | LawSource | GuidanceSource, day: date) -> bool:
    if not isinstance(src, LawSource):
        return True
    return src.valid_from <= day and (src.valid_until is None or day < src.valid_until)


@dataclass
class RuleSet:
    covers_from: date
    facts: dict[str, FactSpec]
    rules: list[Rule]  # every version, in file order
    laws: dict[str, Law]
    seeds: dict[str, Seed]
    directory: Path
    # The kommun whose own documents (seeds of that kommun) reasons may cite; None: none of
    # them, only law, national guidance and seeds of no kommun (`for_kommun`).
    kommun: str | None = None
    _ordered: dict[Decision, list[Rule]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for d in DECISIONS:
            self._ordered[d] = sorted(
                (r for r in self.rules if r.decides(d)), key=lambda r: (r.priority, r.index)
            )

    def for_kommun(self, kommun_id: str | None) -> RuleSet:
        """The same rules as `kommun_id` sees them: reasons cite that kommun's own documents
        and never another kommun's (None: no kommun's)."""
        return dataclasses.replace(self, kommun=kommun_id, _ordered={})

    # ---- facts

    def check_facts(self, facts: object) -> dict[str, object]:
        """The known facts (absent and null dropped); FactsError on anything not allowed."""
        if not isinstance(facts, Mapping):
            raise FactsError([texts().text("rules.facts_not_object")])
        problems: list[str] = []
        known: dict[str, object] = {}
        unknown = [str(k) for k in facts if k not in self.facts]
        if unknown:
            names = ", ".join(f"'{_short(k)}'" for k in unknown)
            key = "rules.unknown_facts" if len(unknown) > 1 else "rules.unknown_fact"
            problems.append(texts().text(key, names=names, allowed=", ".join(self.facts)))
        for name, spec in self.facts.items():
            if name not in facts or facts[name] is None:
                continue
            value = facts[name]
            if not same_value(value, spec.allowed()):
                problems.append(texts().text(
                    "rules.bad_fact", name=name, allowed=spec.describe(), got=_kind(value)
                ))
                continue
            known[name] = value
        if problems:
            raise FactsError(problems)
        return known

    # ---- evaluation

    def rules_on(self, day: date) -> list[Rule]:
        return [r for r in self.rules if r.valid_on(day)]

    def _check_day(self, day: date) -> date:
        if isinstance(day, datetime) or not isinstance(day, date):
            raise TypeError("day must be a datetime.date (the local day in Europe/Stockholm)")
        if day < self.covers_from:
            raise DateOutOfRangeError(day, self.covers_from)
        return day

    def decide(self, facts: Mapping[str, object], day: date) -> dict[Decision, Rule]:
        """The rule version that decides each decision for already checked facts."""
        out: dict[Decision, Rule] = {}
        for d in DECISIONS:
            for rule in self._ordered[d]:
                if rule.valid_on(day) and rule.condition.holds(facts):
                    out[d] = rule
                    break
            else:  # validate() proves a default covers every day; this guards a broken file.
                raise RulesError(
                    texts().text("rules.undecided", decision=d, day=day.isoformat())
                )
        return out

    def assess(self, facts: Mapping[str, object], *, day: date) -> Assessment:
        day = self._check_day(day)
        known = self.check_facts(facts)
        decided = self.decide(known, day)
        reasons: list[Reason] = []
        seen: set[int] = set()
        for d in DECISIONS:
            rule = decided[d]
            if id(rule) not in seen:
                seen.add(id(rule))
                reasons.append(self.reason(rule, day))
        outcome = decided["outcome"].sets.outcome
        guardians = decided["inform_guardians"].sets.inform_guardians
        phone = decided["by_phone_today"].sets.by_phone_today
        assert outcome is not None and guardians is not None and phone is not None
        return Assessment(
            outcome=outcome, inform_guardians=guardians, by_phone_today=phone, reasons=reasons
        )

    def reason(self, rule: Rule, day: date) -> Reason:
        return Reason(
            rule=rule.id,
            text=rule.text,
            sources=[
                self.cite(s)
                for s in sorted(rule.sources, key=_source_rank)
                if _source_valid_on(s, day) and self.shows(s)
            ],
        )

    def shows(self, src: SeedSource | LawSource | GuidanceSource) -> bool:
        """Whether this view cites `src`: another kommun's document never."""
        if not isinstance(src, SeedSource):
            return True
        seed = self.seeds.get(src.seed)
        return seed is None or seed.shown_in(self.kommun)

    def cite(self, src: SeedSource | LawSource | GuidanceSource) -> str:
        if isinstance(src, SeedSource):
            return src.seed
        if isinstance(src, GuidanceSource):
            return src.guidance
        return cite_law(self.laws[src.law], src)


def _source_rank(src: SeedSource | LawSource | GuidanceSource) -> int:
    """Law first, then the seeds, then practice (stable within each kind)."""
    return 0 if isinstance(src, LawSource) else 1 if isinstance(src, SeedSource) else 2


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return texts().text("rules.kind.boolean")
    if isinstance(value, int | float):
        return texts().text("rules.kind.number")
    if isinstance(value, str):
        return texts().text("rules.kind.text")
    if isinstance(value, list | tuple):
        return texts().text("rules.kind.list")
    if isinstance(value, Mapping):
        return texts().text("rules.kind.object")
    return texts().text("rules.kind.other")


# --------------------------------------------------------------------------- loading


def load_with_problems(directory: Path | None) -> tuple[RuleSet | None, list[Problem]]:
    """The rules of a knowledge data directory (None when there is any problem) and every
    problem found; `load_rules` raises them, the proofs (knowledge.rule_proofs) report them."""
    base = Path(directory) if directory is not None else DEFAULT_DIR
    problems: list[Problem] = []
    rel = str(RULES_FILE)

    laws_f = _validate(
        LawsFile, _read_yaml(base / "laws.yaml", base, problems), "laws.yaml", problems
    )
    seeds_f = _validate(
        SeedsFile, _read_yaml(base / "seeds.yaml", base, problems), "seeds.yaml", problems
    )
    laws = {law.abbr: law for law in (laws_f.laws if laws_f else [])}
    seeds = {s.id: s for s in (seeds_f.seeds if seeds_f else [])}

    for other in sorted((base / "rules").glob("*.y*ml")):
        if other.name != RULES_FILE.name:
            problems.append(
                Problem(_rel(other, base), texts().text("rules.unknown_file", file=RULES_FILE))
            )

    data = _read_yaml(base / RULES_FILE, base, problems)
    spec = parse_rules_file(data, rel, problems) if (base / RULES_FILE).exists() else None
    if spec is None:
        return None, problems

    for name in spec.facts:
        if name in KEYWORDS:
            problems.append(Problem(rel, texts().text("rules.reserved_fact", name=name)))

    compiler = ConditionCompiler(spec.facts, spec.conditions)
    for name in spec.conditions:
        try:
            compiler.ref(name)
        except ConditionError as exc:
            in_condition = texts().text("rules.in_condition", name=name, problem=exc)
            problems.append(Problem(rel, in_condition))

    rules: list[Rule] = []
    for index, rs in enumerate(spec.rules):
        try:
            cond: Condition = Always() if rs.when is None else compiler.compile(rs.when)
        except ConditionError as exc:
            problems.append(Problem(rel, f"when: {exc}", rs.id))
            continue
        rules.append(
            Rule(
                id=rs.id,
                priority=rs.priority,
                valid_from=rs.valid_from,
                valid_until=rs.valid_until,
                condition=cond,
                sets=rs.sets,
                text=rs.text,
                sources=tuple(rs.sources),
                file=rel,
                index=index,
            )
        )
        problems.extend(
            check_sources(rs, rel, laws, seeds, laws_f is not None, seeds_f is not None)
        )
        if rs.valid_from < spec.covers_from:
            problems.append(
                Problem(
                    rel,
                    texts().text(
                        "rules.before_covers_from",
                        valid_from=rs.valid_from, covers_from=spec.covers_from,
                    ),
                    rs.id,
                )
            )
    problems.extend(check_versions(rules, spec.covers_from, rel))
    if problems:
        return None, problems
    return (
        RuleSet(
            covers_from=spec.covers_from,
            facts=dict(spec.facts),
            rules=rules,
            laws=laws,
            seeds=seeds,
            directory=base,
        ),
        problems,
    )


def load_rules(directory: Path | None = None) -> RuleSet:
    """Load the assessment rules; raise KnowledgeError listing every problem (file and rule id).

    `directory` is a knowledge data directory (default: the bundled knowledge/data) holding
    rules/assessment.yaml, laws.yaml and seeds.yaml.
    """
    ruleset, problems = load_with_problems(directory)
    if ruleset is None:
        raise KnowledgeError(problems)
    return ruleset

