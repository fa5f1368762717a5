"""The assessment rule file (rules/assessment.yaml): its schema, its conditions compiled, its rule
versions, and the checks of one file on its own (sources, versions, priorities, defaults).

The rule engine (knowledge.rules) loads the file through these; what the file means is
documented at the top of the rules file and in knowledge.rules.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from knowledge import texts
from knowledge.loader import Problem
from knowledge.model import (
    TOPIC_ID,
    GuidanceSource,
    Law,
    LawSource,
    Seed,
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
        return texts().text(
            "rules.describe_choice", values=", ".join(show_value(v) for v in values)
        )


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


class ConditionError(ValueError):
    pass


def same_value(value: object, allowed: Iterable[object]) -> bool:
    # `True == 1` in Python: compare type as well, so `neglect: 1` is not `neglect: true`.
    return any(type(value) is type(a) and value == a for a in allowed)


class ConditionCompiler:
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
            raise ConditionError(texts().text("rules.unknown_condition", name=name, known=known))
        if name in self.active:
            cycle = " → ".join([*self.active, name])
            raise ConditionError(texts().text("rules.condition_cycle", cycle=cycle))
        self.active.append(name)
        try:
            cond = self.compile(self.named[name])
        finally:
            self.active.pop()
        self.done[name] = cond
        return cond

    def compile(self, raw: Any) -> Condition:
        if not isinstance(raw, dict) or len(raw) != 1:
            raise ConditionError(texts().text("rules.condition_shape"))
        ((key, value),) = raw.items()
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise ConditionError(texts().text("rules.condition_list", key=key))
            items = tuple(self.compile(v) for v in value)
            return All(items) if key == "all" else AnyOf(items)
        if key == "not":
            return Not(self.compile(value))
        if key == "ref":
            if not isinstance(value, str):
                raise ConditionError(texts().text("rules.condition_ref"))
            return self.ref(value)
        spec = self.facts.get(key)
        if spec is None:
            known = ", ".join(self.facts)
            raise ConditionError(texts().text("rules.condition_fact", key=key, known=known))
        wanted = value if isinstance(value, list) else [value]
        if not wanted:
            raise ConditionError(texts().text("rules.condition_no_value", key=key))
        for v in wanted:
            if not same_value(v, spec.allowed()):
                allowed = spec.describe()
                raise ConditionError(
                    texts().text("rules.condition_value", key=key, allowed=allowed)
                )
        return Leaf(key, frozenset(wanted))


# --------------------------------------------------------------------------- rule versions


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
        return period_text(self.valid_from, self.valid_until)


def period_text(start: date, end: date | None) -> str:
    if end is None:
        return texts().text("rules.period_open", start=start.isoformat())
    return f"{start.isoformat()}–{(end - timedelta(days=1)).isoformat()}"


def show_value(value: object) -> str:
    """A fact value as it is written in JSON."""
    return ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'


# --------------------------------------------------------------------------- checks of one file


def parse_rules_file(data: Any, rel: str, problems: list[Problem]) -> RulesFile | None:
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


def check_sources(
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
                        where=where, period=period_text(rs.valid_from, rs.valid_until),
                    ),
                    rs.id,
                )
            )
    # A kommun's document is cited only for that kommun (RuleSet.for_kommun): never enough alone.
    def national(src: SeedSource | LawSource | GuidanceSource) -> bool:
        if not isinstance(src, SeedSource):
            return True
        seed = seeds.get(src.seed)
        return seed is not None and seed.kommun is None

    if not any(national(s) for s in rs.sources):
        out.append(Problem(rel, texts().text("rules.only_local_sources"), rs.id))
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


def check_versions(rules: Sequence[Rule], covers_from: date, rel: str) -> list[Problem]:
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

