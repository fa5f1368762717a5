"""Every flow's cards follow the Teams conventions (issue 16): "version": "1.5", button titles of
at most 40 characters and never cut. Each flow is walked along its first and its last choices."""

from __future__ import annotations

import pytest

from dialogs import cards as c
from dialogs.flows import QuestionNode
from tests.dialogs.conftest import Talk

TYPED = {"school_query": "Lindskolan", "home_query": "Norrdal"}


def _check(talk: Talk) -> None:
    for r in talk.last:
        if r.card is None:
            continue
        assert r.card["version"] == "1.5"
        for b in c.buttons_of(r.card):
            if b["data"].get("action") == c.TOPIC:
                continue  # the answer cards' own buttons
            assert len(b["title"]) <= 40 and not b["title"].endswith("…"), b["title"]
            assert "dialog" in b["data"] or not talk.dialog, b


@pytest.mark.parametrize("flow_id", ["concern", "report", "contacts", "sharing"])
@pytest.mark.parametrize("pick", [0, -1])
async def test_every_flow_card_follows_the_teams_conventions(
    talk: Talk, flow_id: str, pick: int
) -> None:
    await talk.send(talk.incoming(value={"action": c.FLOW_START, "flow": flow_id}))
    flow = talk.router.flows[flow_id]
    for _ in range(40):
        _check(talk)
        if not talk.dialog or talk.dialog.get("status") != "active":
            break
        node = flow.nodes[talk.dialog["node"]]
        if isinstance(node, QuestionNode):
            answers = [
                b for b in talk.buttons() if b["data"].get("action") == c.FLOW_ANSWER
                and "choice" in b["data"]
            ]
            await talk.send(talk.incoming(value=dict(answers[pick]["data"])))
        else:
            await talk.say(TYPED.get(getattr(node, "field", ""), "hoppa över"))
    else:
        raise AssertionError(f"{flow_id} did not finish")
