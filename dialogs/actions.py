"""Named actions that flows call where logic is needed (`kind: action` nodes).

Each action is declared here with the results it can return (the flow maps every result to a
next node), its parameters (validated strictly) and the vars it may set (which question texts
may use as `{placeholders}`). dialogs.flowcheck proves flows against these declarations;
`FlowActions` runs them with the injected collaborators.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dialogs import texts
from dialogs.state import DialogState, Turn

log = logging.getLogger(__name__)

Scalar = bool | str | int | None


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckParams(_Params):
    """`any`/`all` of `facts.<name>` / `vars.<name>` equal to a value (or one of a list)."""

    any: dict[str, Scalar | list[Scalar]] | None = None
    all: dict[str, Scalar | list[Scalar]] | None = None
    present: list[str] | None = None  # every one of these is known (not absent, not null)

    @model_validator(mode="after")
    def _one(self) -> CheckParams:
        given = [x for x in (self.any, self.all, self.present) if x is not None]
        if len(given) != 1:
            raise ValueError(texts().text("actions.check_one_of"))
        for key in given[0]:
            if not key.startswith(("facts.", "vars.")):
                raise ValueError(texts().text("actions.check_key", key=key))
        return self

    def keys(self) -> list[str]:
        return list(self.any or self.all or self.present or [])


class SwitchParams(_Params):
    on: str = Field(pattern=r"^(facts|vars)\.[a-z_][a-z0-9_]*$")
    cases: list[str] = Field(min_length=1)


class FieldParams(_Params):
    field: str = Field(pattern=r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ActionSpec:
    name: str
    results: Callable[[BaseModel | None], frozenset[str]]
    params: type[BaseModel] | None = None
    provides: frozenset[str] = frozenset()
    needs: Literal["rules", "registry"] | None = None

    def parse(self, raw: Mapping[str, Any]) -> BaseModel | None:
        if self.params is None:
            if raw:
                raise ValueError(texts().text("actions.no_params", action=self.name))
            return None
        return self.params.model_validate(dict(raw))


def _fixed(*names: str) -> Callable[[BaseModel | None], frozenset[str]]:
    return lambda _p: frozenset(names)


def _switch_results(p: BaseModel | None) -> frozenset[str]:
    assert isinstance(p, SwitchParams)
    return frozenset([*p.cases, "other"])


SCHOOL_VARS = frozenset({"school_id", "school_name", "school_candidates"})
HOME_VARS = frozenset({"home_district_id", "home_district_name", "home_candidates"})
# Who to phone now (the route's primary contact: an open intake, else socialjouren).
CALL_NOW_VARS = frozenset({"call_now_known", "call_now_name", "call_now_phone"})
# The after-hours service (socialjour) when the registry knows which one it is without the school
# or the home district (one for the whole registry, or the school's district's).
SOCIALJOUR_VARS = frozenset({"socialjour_known", "socialjour_name", "socialjour_phone"})

ACTION_SPECS: Mapping[str, ActionSpec] = {
    s.name: s
    for s in (
        ActionSpec(
            "assess",
            _fixed("emergency", "report", "consult"),
            provides=frozenset(
                {
                    "outcome",
                    "inform_guardians",
                    "by_phone_today",
                    "reasons",
                    "purpose",
                    "assess_error",
                }
            ),
            needs="rules",
        ),
        ActionSpec("check", _fixed("yes", "no"), CheckParams),
        ActionSpec("switch", _switch_results, SwitchParams),
        ActionSpec(
            "known_school",
            _fixed("known", "unknown", "unavailable"),
            provides=SCHOOL_VARS,
            needs="registry",
        ),
        ActionSpec(
            "match_school",
            _fixed("one", "ambiguous", "suggest", "none", "skipped", "unavailable"),
            FieldParams,
            provides=SCHOOL_VARS,
            needs="registry",
        ),
        ActionSpec("set_school", _fixed("ok", "retry"), FieldParams, provides=SCHOOL_VARS),
        ActionSpec(
            "match_district",
            _fixed("one", "ambiguous", "suggest", "none", "unknown", "unavailable"),
            FieldParams,
            provides=HOME_VARS,
            needs="registry",
        ),
        ActionSpec("set_district", _fixed("ok", "retry"), FieldParams, provides=HOME_VARS),
        ActionSpec(
            "call_now",
            _fixed("known", "socialjour", "unknown"),
            provides=frozenset({*CALL_NOW_VARS, *SOCIALJOUR_VARS}),
        ),
        ActionSpec(
            "route",
            _fixed("ok", "unavailable"),
            provides=frozenset({"route", *CALL_NOW_VARS}),
            needs="registry",
        ),
    )
}

# Vars a question text may always use.
BASE_VARS = frozenset({"purpose"})
MAX_CANDIDATES = 5
GUARDIAN_FACTS = (
    "violence_by_guardian",
    "sexual_abuse",
    "honor_context",
    "domestic_violence_witnessed",
)


class RuleEngine(Protocol):
    def assess(self, facts: Mapping[str, object], *, day: Any) -> Any: ...


class Registry(Protocol):
    async def match_school(self, text: str) -> Any: ...

    async def match_district(self, text: str) -> Any: ...

    async def route(
        self,
        *,
        purpose: str,
        at: datetime,
        school: str | None = None,
        home_district: str | None = None,
    ) -> Any: ...


def lookup(path: str, ds: DialogState) -> Any:
    scope, _, name = path.partition(".")
    source = ds.facts if scope == "facts" else ds.vars
    return source.get(name)


def _matches(value: Any, expected: Scalar | list[Scalar]) -> bool:
    if isinstance(expected, list):
        return any(value == e and type(value) is type(e) for e in expected)
    return value == expected and type(value) is type(expected)


class FlowActions:
    def __init__(self, *, rules: RuleEngine | None, registry: Registry | None) -> None:
        self.rules = rules
        self.registry = registry

    def available(self, needs: str | None) -> bool:
        if needs == "rules":
            return self.rules is not None
        if needs == "registry":
            return self.registry is not None
        return True

    async def run(
        self, name: str, raw_params: Mapping[str, Any], turn: Turn, ds: DialogState
    ) -> str:
        spec = ACTION_SPECS[name]
        params = spec.parse(raw_params)
        handler = getattr(self, f"_do_{name}")
        result = await handler(params, turn, ds)
        assert result in spec.results(params), (name, result)
        return str(result)

    # --- logic ---------------------------------------------------------------------------------

    async def _do_check(self, p: CheckParams, turn: Turn, ds: DialogState) -> str:
        if p.any is not None:
            ok = any(_matches(lookup(k, ds), v) for k, v in p.any.items())
        elif p.all is not None:
            ok = all(_matches(lookup(k, ds), v) for k, v in p.all.items())
        else:
            ok = all(lookup(k, ds) is not None for k in p.present or [])
        return "yes" if ok else "no"

    async def _do_switch(self, p: SwitchParams, turn: Turn, ds: DialogState) -> str:
        value = lookup(p.on, ds)
        return value if isinstance(value, str) and value in p.cases else "other"

    async def _do_assess(self, p: None, turn: Turn, ds: DialogState) -> str:
        facts = {k: v for k, v in ds.facts.items() if v is not None}
        try:
            if self.rules is None:
                raise LookupError("no rule set")
            a = self.rules.assess(facts, day=turn.day)
        except Exception as exc:  # a broken rule file or date: uncertain means consult
            log.warning("assessment failed: %s", type(exc).__name__)
            # Uncertain means: consult, don't tell the guardians first, and phone today.
            ds.vars.update(
                outcome="consult",
                inform_guardians="consult_first",
                by_phone_today=True,
                reasons=[],
                purpose="report",
                assess_error=True,
            )
            ds.vars["call_now_known"] = False
            return "consult"
        ds.vars.update(
            outcome=a.outcome,
            inform_guardians=a.inform_guardians,
            by_phone_today=bool(a.by_phone_today),
            reasons=[r.to_json() for r in a.reasons],
            # Whoever is to be phoned today is found where the child lives, like a report.
            purpose=(
                "report"
                if a.outcome in ("emergency", "report") or a.by_phone_today
                else "consult"
            ),
        )
        ds.vars["call_now_known"] = False
        ds.vars.pop("assess_error", None)
        return str(a.outcome)

    # --- registry ------------------------------------------------------------------------------

    def _set_school(self, turn: Turn, ds: DialogState, school_id: str, name: str) -> None:
        ds.vars.update(school_id=school_id, school_name=name)
        ds.vars.pop("school_candidates", None)
        # The school is the user's own workplace, not child data: remembered in the profile.
        turn.state.user["school"] = {"id": school_id, "name": name}

    @staticmethod
    def _candidates(match: Any) -> list[dict[str, str]]:
        return [
            {"value": str(i.id), "label": str(i.name)} for i in list(match.items)[:MAX_CANDIDATES]
        ]

    async def _do_known_school(self, p: None, turn: Turn, ds: DialogState) -> str:
        if self.registry is None:
            return "unavailable"
        saved = turn.state.user.get("school")
        if not isinstance(saved, dict) or not saved.get("name"):
            return "unknown"
        try:
            match = await self.registry.match_school(str(saved["name"]))
        except Exception:
            log.warning("registry lookup failed", exc_info=True)
            return "unavailable"
        item = match.items[0] if match.kind == "one" and match.items else None
        if item is None or str(item.id) != str(saved.get("id")):
            turn.state.user.pop("school", None)  # no longer in the registry
            return "unknown"
        ds.vars.update(school_id=str(item.id), school_name=str(item.name))
        return "known"

    async def _do_match_school(self, p: FieldParams, turn: Turn, ds: DialogState) -> str:
        query = ds.vars.get(p.field)
        # A school asked for again ("Nej, byt skola", "Ingen av dem") replaces the one before.
        for key in SCHOOL_VARS:
            ds.vars.pop(key, None)
        if not isinstance(query, str) or not query.strip():
            # Skipped: no school for this lookup, and the remembered one was not right either.
            turn.state.user.pop("school", None)
            return "skipped"
        if self.registry is None:
            return "unavailable"
        try:
            match = await self.registry.match_school(query)
        except Exception:
            log.warning("registry lookup failed", exc_info=True)
            return "unavailable"
        if match.kind == "one" and match.items:
            self._set_school(turn, ds, str(match.items[0].id), str(match.items[0].name))
            return "one"
        if match.items:  # several close names, or suggestions for a name that did not match
            ds.vars["school_candidates"] = self._candidates(match)
            return "ambiguous" if match.kind == "ambiguous" else "suggest"
        return "none"

    async def _do_set_school(self, p: FieldParams, turn: Turn, ds: DialogState) -> str:
        pick = ds.vars.get(p.field)
        for cand in ds.vars.get("school_candidates") or []:
            if cand.get("value") == pick:
                self._set_school(turn, ds, str(cand["value"]), str(cand["label"]))
                return "ok"
        return "retry"

    async def _do_match_district(self, p: FieldParams, turn: Turn, ds: DialogState) -> str:
        query = ds.vars.get(p.field)
        for key in ("home_district_id", "home_district_name", "home_candidates"):
            ds.vars.pop(key, None)
        if not isinstance(query, str) or not query.strip():
            return "unknown"
        if self.registry is None:
            return "unavailable"
        try:
            match = await self.registry.match_district(query)
        except Exception:
            log.warning("registry lookup failed", exc_info=True)
            return "unavailable"
        if match.kind == "one" and match.items:
            ds.vars.update(
                home_district_id=str(match.items[0].id), home_district_name=str(match.items[0].name)
            )
            return "one"
        if match.items:
            ds.vars["home_candidates"] = self._candidates(match)
            return "ambiguous" if match.kind == "ambiguous" else "suggest"
        return "none"

    async def _do_set_district(self, p: FieldParams, turn: Turn, ds: DialogState) -> str:
        pick = ds.vars.get(p.field)
        for cand in ds.vars.get("home_candidates") or []:
            if cand.get("value") == pick:
                ds.vars.update(
                    home_district_id=str(cand["value"]), home_district_name=str(cand["label"])
                )
                ds.vars.pop("home_candidates", None)
                return "ok"
        return "retry"

    async def _do_call_now(self, p: None, turn: Turn, ds: DialogState) -> str:
        """Who to phone now, as far as known before any question about the school or the home:
        with the remembered school, the route's contact on duty; and socialjouren when the
        registry says which it is. No question is asked for it."""
        ds.vars["call_now_known"] = False
        ds.vars["socialjour_known"] = False
        if self.registry is None:
            return "unknown"
        saved = turn.state.user.get("school")
        school = str(saved["id"]) if isinstance(saved, dict) and saved.get("id") else None
        result: Any = None
        try:
            result = await self.registry.route(
                purpose="report", school=school, home_district=None, at=turn.now
            )
        except Exception:
            log.warning("routing failed", exc_info=True)
        contacts: list[Any] = []
        if result is not None and getattr(result, "ok", False):
            contacts = [result.primary, *result.also]
        on_duty = [k for k in contacts if k is not None and k.phone]
        if result is not None and getattr(result, "open_now", None) is False:
            # The intake is closed: socialjouren is the one to phone now.
            on_duty = [k for k in on_duty if k.kind == "after_hours"] + on_duty
        if on_duty and on_duty[0].kind != "contact_person":
            ds.vars.update(
                call_now_known=True, call_now_name=on_duty[0].name, call_now_phone=on_duty[0].phone
            )
        jour = next((k for k in contacts if k is not None and k.kind == "after_hours"), None)
        if jour is None:
            snapshot = getattr(self.registry, "snapshot", None)
            try:
                services = list((await snapshot()).after_hours.values()) if snapshot else []
            except Exception:
                log.warning("registry snapshot failed", exc_info=True)
                services = []
            jour = services[0] if len(services) == 1 else None
        if jour is not None and jour.phone:
            ds.vars.update(
                socialjour_known=True, socialjour_name=jour.name, socialjour_phone=jour.phone
            )
        if ds.vars["call_now_known"]:
            return "known"
        return "socialjour" if ds.vars["socialjour_known"] else "unknown"

    async def _do_route(self, p: None, turn: Turn, ds: DialogState) -> str:
        if self.registry is None:
            return "unavailable"
        raw = ds.vars.get("purpose")
        purpose = (
            raw if isinstance(raw, str) and raw in ("report", "consult", "general") else "consult"
        )
        try:
            result = await self.registry.route(
                purpose=purpose,
                school=ds.vars.get("school_id"),
                home_district=ds.vars.get("home_district_id") if purpose == "report" else None,
                at=turn.now,
            )
        except Exception:
            log.warning("routing failed", exc_info=True)
            return "unavailable"
        turn.scratch["route"] = result
        to_json = getattr(result, "to_json", None)
        ds.vars["route"] = to_json() if callable(to_json) else None
        primary = getattr(result, "primary", None) if getattr(result, "ok", False) else None
        phone = getattr(primary, "phone", None)
        if primary is not None and phone:
            ds.vars.update(
                call_now_known=True, call_now_name=str(primary.name), call_now_phone=str(phone)
            )
        else:
            ds.vars["call_now_known"] = False
            for key in ("call_now_name", "call_now_phone"):
                ds.vars.pop(key, None)
        return "ok"
