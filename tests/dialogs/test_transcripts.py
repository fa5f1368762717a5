"""Conversation transcripts as data (tests/dialogs/transcripts/*.yaml), run by one test.

A transcript is a list of steps:

    - install: true                 # the bot is installed: the welcome card
    - say: "text"                   # the user types
    - press: "Button title"         # the user presses a button of the latest replies
      fields: {answer: "..."}       #   with these card input values (Input.Text)
    - wait: {hours: 25}             # time passes (the injected clock)
    - restart: true                 # a new router (a server restart) on the stored state
    - drop_dialog: true             # the state store dropped the (expired) dialog document
    each of the above may carry:
      expect: [fragments]           # every fragment appears in the replies (text, cards, buttons)
      absent: [fragments]           # no fragment appears
      buttons: [titles]             # these buttons are offered
    - check: {dialog: empty|active|done, flow: id, node: id, facts: {...}, vars: {...},
              user_school: name | null, dialog_lacks: [fragments], user_lacks: [fragments]}

A `say` step may set `truncated: true` (the channel layer cut a very long message).

Fragments are compared without regard to case.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.catalogue import Catalogue
from common.clock import FixedClock
from contacts.registry import RegistryService
from dialogs.router import Router
from knowledge.loader import KnowledgeBase
from knowledge.rules import RuleSet
from knowledge.search import SearchIndex
from tests.dialogs.conftest import WEEKDAY_MORNING, FakeFeedback, Talk, make_router

TRANSCRIPTS = sorted((Path(__file__).resolve().parent / "transcripts").glob("*.yaml"))
SPECS = {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in TRANSCRIPTS}
STEP_KINDS = {"install", "say", "press", "wait", "restart", "drop_dialog", "check"}


def _check_replies(talk: Talk, step: dict[str, Any], where: str) -> None:
    text = talk.texts().lower()
    for fragment in step.get("expect", []):
        assert fragment.lower() in text, f"{where}: expected {fragment!r} in:\n{talk.texts()}"
    for fragment in step.get("absent", []):
        assert fragment.lower() not in text, (
            f"{where}: did not expect {fragment!r} in:\n{talk.texts()}"
        )
    titles = [b["title"] for b in talk.buttons()]
    for title in step.get("buttons", []):
        assert title in titles, f"{where}: no button {title!r} among {titles}"


def _check_state(talk: Talk, check: dict[str, Any], where: str) -> None:
    dialog = talk.dialog
    if "dialog" in check:
        want = check["dialog"]
        if want == "empty":
            assert dialog == {}, f"{where}: dialog state should be empty, is {dialog}"
        else:
            assert dialog.get("status") == want, f"{where}: dialog status {dialog.get('status')!r}"
    for key in ("flow", "node"):
        if key in check:
            assert dialog.get(key) == check[key], f"{where}: {key} is {dialog.get(key)!r}"
    for scope in ("facts", "vars"):
        for name, value in (check.get(scope) or {}).items():
            got = dialog.get(scope, {}).get(name)
            assert got == value, f"{where}: {scope}.{name} is {got!r}, expected {value!r}"
    for scope, doc in (("dialog_lacks", talk.dialog), ("user_lacks", talk.user)):
        dumped = json.dumps(doc, ensure_ascii=False).lower()
        for fragment in check.get(scope, []):
            assert fragment.lower() not in dumped, (
                f"{where}: {fragment!r} is kept in {scope[:-6]} state"
            )
    if "user_school" in check:
        school = talk.user.get("school")
        name = school.get("name") if isinstance(school, dict) else None
        assert name == check["user_school"], f"{where}: remembered school {name!r}"


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
async def test_transcript(
    path: Path,
    kb: KnowledgeBase,
    index: SearchIndex,
    rules: RuleSet,
    messages: Catalogue,
    registry: RegistryService,
) -> None:
    spec = SPECS[path.name]
    start = spec.get("now")
    clock = FixedClock(datetime.fromisoformat(str(start)) if start else WEEKDAY_MORNING)
    feedback = FakeFeedback()

    def new_router() -> Router:
        return make_router(
            kb,
            index,
            rules,
            messages,
            clock,
            registry=registry if spec.get("registry", True) else None,
            feedback=feedback,
        )

    talk = Talk(router=new_router(), clock=clock)
    talk.conversation_type = spec.get("conversation", "personal")
    talk.user = dict(spec.get("user") or {})
    assert spec.get("steps"), f"{path.name}: no steps"
    for i, step in enumerate(spec["steps"], start=1):
        kinds = STEP_KINDS & step.keys()
        assert len(kinds) == 1, f"{path.name} step {i}: one of {sorted(STEP_KINDS)} expected"
        kind = kinds.pop()
        where = f"{path.name} step {i} ({kind}: {step[kind]})"
        if kind == "install":
            inc = talk.incoming()
            talk.last = await talk.router.welcome(inc, talk_state(talk))
        elif kind == "say":
            await talk.say(str(step["say"]), truncated=bool(step.get("truncated", False)))
        elif kind == "press":
            await talk.press(str(step["press"]), **(step.get("fields") or {}))
        elif kind == "wait":
            talk.advance(timedelta(**step["wait"]))
            continue
        elif kind == "restart":
            talk.router = new_router()
            continue
        elif kind == "drop_dialog":
            talk.dialog = {}
            continue
        else:
            _check_state(talk, step["check"], where)
            continue
        _check_replies(talk, step, where)
    if "feedback" in spec:
        assert feedback.counts == spec["feedback"]


def talk_state(talk: Talk) -> Any:
    from dialogs.types import TurnState

    return TurnState(now=talk.clock.now(), dialog=talk.dialog, user=talk.user)
