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

`validate(directory)` (used by `samverkan kb check`) proves, beyond the schema, that every rule
version can fire for some combination of facts on every day it is valid, that a dated case in
rules/cases/*.yaml exercises it, that every date in the rule base has cases on both sides, and
that every case passes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

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
    TOPIC_ID,
    GuidanceSource,
    Law,
    LawsFile,
    LawSource,
    Seed,
    SeedsFile,
    SeedSource,
    Source,
    Strict,
)

Outcome = Literal["emergency", "report", "consult"]
InformGuardians = Literal["consult_first", "usually"]
Decision = Literal["outcome", "inform_guardians", "by_phone_today"]
DECISIONS: tuple[Decision, ...] = ("outcome", "inform_guardians", "by_phone_today")

RULES_FILE = Path("rules") / "assessment.yaml"
KEYWORDS = frozenset({"all", "any", "not", "ref"})
# How many fact combinations the reachability proof may try for one rule in one period.
MAX_COMBINATIONS = 1 << 20


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


# --------------------------------------------------------------------------- file schema


class FactSpec(Strict):
    type: Literal["boolean", "choice"]
    # A choice may mix yes/no with words: acute_danger is true, false or "unsure".
    values: list[bool | str] | None = None
    label: Annotated[str, Field(min_length=3)]

    @model_validator(mode="after")
    def _values_match_type(self) -> FactSpec:
        if self.type == "choice" and not self.values:
            raise ValueError(texts().text("rules.choice_without_values"))
        if self.type == "boolean" and self.values is not None:
            raise ValueError(texts().text("rules.boolean_with_values"))
        if self.values is not None and len(set(self.values)) != len(self.values):
            raise ValueError(texts().text("rules.duplicate_values"))
        return self

    def allowed(self) -> tuple[object, ...]:
        return (True, False) if self.type == "boolean" else tuple(self.values or ())

    def describe(self) -> str:
        if self.type == "boolean":
            return texts().text("rules.describe_boolean")
        values = self.values or []
        if all(isinstance(v, str) for v in values):
            return texts().text("rules.describe_choice", values=", ".join(str(v) for v in values))
        return texts().text("rules.describe_choice", values=", ".join(_show(v) for v in values))


class Sets(Strict):
    outcome: Outcome | None = None
    inform_guardians: InformGuardians | None = None
    by_phone_today: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> Sets:
        if self.outcome is None and self.inform_guardians is None and self.by_phone_today is None:
            raise ValueError(texts().text("rules.sets_empty"))
        return self

    def key(self) -> tuple[object, ...]:
        return (self.outcome, self.inform_guardians, self.by_phone_today)


class RuleSpec(Strict):
    id: Annotated[str, Field(pattern=TOPIC_ID, max_length=80)]
    priority: Annotated[int, Field(ge=0)]
    valid_from: date
    valid_until: date | None = None
    when: Any = None
    sets: Sets
    text: Annotated[str, Field(min_length=20, max_length=400)]
    sources: Annotated[list[Source], Field(min_length=1)]

    @model_validator(mode="after")
    def _check(self) -> RuleSpec:
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError(texts().text("rules.until_before_from"))
        if not any(isinstance(s, SeedSource | LawSource) for s in self.sources):
            raise ValueError(texts().text("rules.no_seed_or_law"))
        return self


class RulesFile(Strict):
    covers_from: date
    facts: Annotated[dict[str, FactSpec], Field(min_length=1)]
    conditions: dict[str, Any] = {}
    rules: Annotated[list[RuleSpec], Field(min_length=1)]


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Leaf:
    fact: str
    values: frozenset[object]

    def holds(self, facts: Mapping[str, object]) -> bool:
        value = facts.get(self.fact)
        return value is not None and value in self.values


@dataclass(frozen=True)
class All:
    items: tuple[Condition, ...]

    def holds(self, facts: Mapping[str, object]) -> bool:
        return all(c.holds(facts) for c in self.items)


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]

    def holds(self, facts: Mapping[str, object]) -> bool:
        return any(c.holds(facts) for c in self.items)


@dataclass(frozen=True)
class Not:
    item: Condition

    def holds(self, facts: Mapping[str, object]) -> bool:
        return not self.item.holds(facts)


@dataclass(frozen=True)
class Always:
    def holds(self, facts: Mapping[str, object]) -> bool:
        return True


Condition = Leaf | All | AnyOf | Not | Always


def leaves(cond: Condition) -> Iterator[Leaf]:
    if isinstance(cond, Leaf):
        yield cond
    elif isinstance(cond, All | AnyOf):
        for c in cond.items:
            yield from leaves(c)
    elif isinstance(cond, Not):
        yield from leaves(cond.item)


class _ConditionError(ValueError):
    pass


def _same_value(value: object, allowed: Iterable[object]) -> bool:
    # `True == 1` in Python: compare type as well, so `neglect: 1` is not `neglect: true`.
    return any(type(value) is type(a) and value == a for a in allowed)


class _Compiler:
    """Turns the YAML form of a condition into Condition objects, checking names and values."""

    def __init__(self, facts: Mapping[str, FactSpec], named: Mapping[str, Any]) -> None:
        self.facts = facts
        self.named = named
        self.done: dict[str, Condition] = {}
        self.active: list[str] = []

    def ref(self, name: str) -> Condition:
        if name in self.done:
            return self.done[name]
        if name not in self.named:
            known = ", ".join(sorted(self.named)) or texts().text("rules.none_known")
            raise _ConditionError(texts().text("rules.unknown_condition", name=name, known=known))
        if name in self.active:
            cycle = " → ".join([*self.active, name])
            raise _ConditionError(texts().text("rules.condition_cycle", cycle=cycle))
        self.active.append(name)
        try:
            cond = self.compile(self.named[name])
        finally:
            self.active.pop()
        self.done[name] = cond
        return cond

    def compile(self, raw: Any) -> Condition:
        if not isinstance(raw, dict) or len(raw) != 1:
            raise _ConditionError(texts().text("rules.condition_shape"))
        ((key, value),) = raw.items()
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise _ConditionError(texts().text("rules.condition_list", key=key))
            items = tuple(self.compile(v) for v in value)
            return All(items) if key == "all" else AnyOf(items)
        if key == "not":
            return Not(self.compile(value))
        if key == "ref":
            if not isinstance(value, str):
                raise _ConditionError(texts().text("rules.condition_ref"))
            return self.ref(value)
        spec = self.facts.get(key)
        if spec is None:
            known = ", ".join(self.facts)
            raise _ConditionError(texts().text("rules.condition_fact", key=key, known=known))
        wanted = value if isinstance(value, list) else [value]
        if not wanted:
            raise _ConditionError(texts().text("rules.condition_no_value", key=key))
        for v in wanted:
            if not _same_value(v, spec.allowed()):
                allowed = spec.describe()
                raise _ConditionError(
                    texts().text("rules.condition_value", key=key, allowed=allowed)
                )
        return Leaf(key, frozenset(wanted))


# --------------------------------------------------------------------------- rule set


@dataclass(frozen=True)
class Rule:
    """One version of a rule, compiled."""

    id: str
    priority: int
    valid_from: date
    valid_until: date | None
    condition: Condition
    sets: Sets
    text: str
    sources: tuple[SeedSource | LawSource | GuidanceSource, ...]
    file: str
    index: int  # position in its file, to tell versions apart in messages

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)

    def decides(self, decision: Decision) -> bool:
        return getattr(self.sets, decision) is not None

    @property
    def period(self) -> str:
        return _period(self.valid_from, self.valid_until)


def _period(start: date, end: date | None) -> str:
    if end is None:
        return texts().text("rules.period_open", start=start.isoformat())
    return f"{start.isoformat()}–{(end - timedelta(days=1)).isoformat()}"


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
    _ordered: dict[Decision, list[Rule]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for d in DECISIONS:
            self._ordered[d] = sorted(
                (r for r in self.rules if r.decides(d)), key=lambda r: (r.priority, r.index)
            )

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
            if not _same_value(value, spec.allowed()):
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
                if _source_valid_on(s, day)
            ],
        )

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


def _show(value: object) -> str:
    """A fact value as it is written in JSON."""
    return ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'


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


def _load(directory: Path | None) -> tuple[RuleSet | None, list[Problem]]:
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
    spec = _validate_rules(data, rel, problems) if (base / RULES_FILE).exists() else None
    if spec is None:
        return None, problems

    for name in spec.facts:
        if name in KEYWORDS:
            problems.append(Problem(rel, texts().text("rules.reserved_fact", name=name)))

    compiler = _Compiler(spec.facts, spec.conditions)
    for name in spec.conditions:
        try:
            compiler.ref(name)
        except _ConditionError as exc:
            in_condition = texts().text("rules.in_condition", name=name, problem=exc)
            problems.append(Problem(rel, in_condition))

    rules: list[Rule] = []
    for index, rs in enumerate(spec.rules):
        try:
            cond: Condition = Always() if rs.when is None else compiler.compile(rs.when)
        except _ConditionError as exc:
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
            _check_sources(rs, rel, laws, seeds, laws_f is not None, seeds_f is not None)
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
    problems.extend(_check_versions(rules, spec.covers_from, rel))
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


def _validate_rules(data: Any, rel: str, problems: list[Problem]) -> RulesFile | None:
    """Like loader._validate, but errors inside a rule name the rule's id."""
    if data is None:
        if not any(p.file == rel for p in problems):
            problems.append(Problem(rel, texts().text("rules.empty_file")))
        return None
    try:
        return RulesFile.model_validate(data)
    except ValidationError as exc:
        seen: set[Problem] = set()
        for err in exc.errors():
            loc = list(err["loc"])
            rule_id: str | None = None
            if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
                try:
                    item = data["rules"][loc[1]]
                    rule_id = str(item.get("id") or f"#{loc[1] + 1}")
                except (KeyError, IndexError, TypeError, AttributeError):
                    rule_id = f"#{loc[1] + 1}"
                loc = loc[2:]
            # Drop pydantic's union-member tags (e.g. 'LawSource') from the path.
            path = ".".join(str(x) for x in loc if not (isinstance(x, str) and x[:1].isupper()))
            kind = err["type"]
            if kind == "extra_forbidden":
                msg = texts().text("rules.unknown_key", key=path or "?")
            elif kind == "missing":
                msg = texts().text("rules.missing_field", path=path)
            elif kind.startswith("date"):
                msg = texts().text("rules.bad_date", path=path)
            else:
                msg = f"{path}: {err['msg']}" if path else err["msg"]
            problem = Problem(rel, msg, rule_id)
            if problem not in seen:
                seen.add(problem)
                problems.append(problem)
        return None


def _check_sources(
    rs: RuleSpec,
    rel: str,
    laws: Mapping[str, Law],
    seeds: Mapping[str, Seed],
    have_laws: bool,
    have_seeds: bool,
) -> list[Problem]:
    out: list[Problem] = []
    law_sources: list[LawSource] = []
    for src in rs.sources:
        if isinstance(src, SeedSource) and have_seeds and src.seed not in seeds:
            out.append(Problem(rel, texts().text("rules.unknown_seed", seed=src.seed), rs.id))
        if not isinstance(src, LawSource):
            continue
        law = laws.get(src.law)
        if law is None:
            if have_laws:
                out.append(Problem(rel, texts().text("rules.unknown_law", law=src.law), rs.id))
            continue
        law_sources.append(src)
        where = (
            texts().text(
                "rules.provision_chapter",
                law=src.law, chapter=src.chapter, paragraph=src.paragraph,
            )
            if src.chapter
            else texts().text("rules.provision", law=src.law, paragraph=src.paragraph)
        )
        if law.in_force is not None and src.valid_from < law.in_force:
            out.append(
                Problem(
                    rel,
                    texts().text("rules.before_in_force", where=where, in_force=law.in_force),
                    rs.id,
                )
            )
        if law.repealed is not None and (src.valid_until is None or src.valid_until > law.repealed):
            out.append(
                Problem(
                    rel,
                    texts().text("rules.repealed", where=where, repealed=law.repealed),
                    rs.id,
                )
            )
        ends = rs.valid_until or date.max
        if src.valid_from >= ends or (
            src.valid_until is not None and src.valid_until <= rs.valid_from
        ):
            out.append(
                Problem(
                    rel,
                    texts().text(
                        "rules.source_never_valid",
                        where=where, period=_period(rs.valid_from, rs.valid_until),
                    ),
                    rs.id,
                )
            )
    if law_sources:
        gap = _first_uncovered(rs.valid_from, rs.valid_until, law_sources)
        if gap is not None:
            out.append(
                Problem(
                    rel,
                    texts().text("rules.law_gap", day=gap.isoformat()),
                    rs.id,
                )
            )
    return out


def _first_uncovered(start: date, end: date | None, sources: Sequence[LawSource]) -> date | None:
    """The first day in [start, end) on which none of the law sources is valid, or None."""
    day = start
    for src in sorted(sources, key=lambda s: s.valid_from):
        if src.valid_from > day:
            break
        if src.valid_until is None:
            return None
        day = max(day, src.valid_until)
        if end is not None and day >= end:
            return None
    if end is not None and day >= end:
        return None
    return day


def _check_versions(rules: Sequence[Rule], covers_from: date, rel: str) -> list[Problem]:
    out: list[Problem] = []
    by_id: dict[str, list[Rule]] = {}
    for r in rules:
        by_id.setdefault(r.id, []).append(r)
    for rid, versions in by_id.items():
        ordered = sorted(versions, key=lambda r: r.valid_from)
        for a, b in itertools.pairwise(ordered):
            if a.valid_until is None or b.valid_from < a.valid_until:
                out.append(
                    Problem(
                        rel, texts().text("rules.versions_overlap", a=a.period, b=b.period), rid
                    )
                )
        if len({r.sets.key() for r in versions}) > 1:
            out.append(Problem(rel, texts().text("rules.versions_differ"), rid))
    for d in DECISIONS:
        deciders = [r for r in rules if r.decides(d)]
        for a, b in itertools.combinations(deciders, 2):
            if a.id != b.id and a.priority == b.priority and _overlap(a, b):
                out.append(
                    Problem(
                        rel,
                        texts().text(
                            "rules.same_priority", priority=a.priority, other=b.id, decision=d
                        ),
                        a.id,
                    )
                )
        defaults = [r for r in deciders if isinstance(r.condition, Always)]
        gap = _first_day_without(covers_from, defaults)
        if gap is not None:
            out.append(
                Problem(
                    rel,
                    texts().text("rules.no_default", decision=d, day=gap.isoformat()),
                )
            )
    return out


def _overlap(a: Rule, b: Rule) -> bool:
    a_end = a.valid_until or date.max
    b_end = b.valid_until or date.max
    return a.valid_from < b_end and b.valid_from < a_end


def _first_day_without(start: date, rules: Sequence[Rule]) -> date | None:
    day = start
    for r in sorted(rules, key=lambda r: r.valid_from):
        if r.valid_from > day:
            break
        if r.valid_until is None:
            return None
        day = max(day, r.valid_until)
    return day


def load_rules(directory: Path | None = None) -> RuleSet:
    """Load the assessment rules; raise KnowledgeError listing every problem (file and rule id).

    `directory` is a knowledge data directory (default: the bundled knowledge/data) holding
    rules/assessment.yaml, laws.yaml and seeds.yaml.
    """
    ruleset, problems = _load(directory)
    if ruleset is None:
        raise KnowledgeError(problems)
    return ruleset


# --------------------------------------------------------------------------- dated cases


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

    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
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
            expected=_show(exp.by_phone_today), got=_show(result.by_phone_today),
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


# --------------------------------------------------------------------------- validation


def validate(directory: Path | None = None, *, cases: Path | None = None) -> list[Problem]:
    """Every problem with the rules: schema and sources, reachability, tests, dated coverage.

    `cases` is the directory of dated YAML cases (default: rules/cases beside the rules).
    """
    ruleset, problems = _load(directory)
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
                during = texts().text("rules.in_period", period=_period(start, end), problem=exc)
                out.append(Problem(rule.file, during, rule.id))
                continue
            if found is None:
                out.append(
                    Problem(
                        rule.file,
                        texts().text("rules.unreachable", period=_period(start, end)),
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
                        texts().text("rules.untested", period=_period(start, end)),
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
