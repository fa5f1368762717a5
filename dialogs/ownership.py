"""Cards belong to their dialog.

Every button the bot shows while a dialog exists carries the dialog's id and step (`dialog`,
`step` in its data). A press is then checked before it acts:

- a button that acts on a dialog (answer, "Ändra svar", "Fortsätt", "Varför?", "Avbryt") from a
  finished or another dialog says so and offers to start that dialog again, and leaves the
  running one alone; "Ändra svar" from an older step of the same dialog shows the current question;
- a button that would start a dialog (a menu entry, "Jag är orolig för ett barn" under "Läs
  också", "Börja om") while another has answers asks first.

Buttons made before dialogs had ids carry none and act as before.
"""

from __future__ import annotations

import json
from typing import Any

from common.catalogue import Catalogue
from dialogs import cards as c
from dialogs.state import DialogState
from dialogs.types import Reply

# Actions that act on the dialog that made the card.
BOUND = frozenset(
    {c.FLOW_ANSWER, c.FLOW_BACK, c.FLOW_RESUME, c.FLOW_WHY, c.FLOW_PNR, c.FLOW_CANCEL}
)
# Actions whose effect depends on the step of the dialog the card was made at.
STEP_BOUND = frozenset({c.FLOW_BACK})


def stamp(replies: list[Reply], dialog: dict[str, Any]) -> list[Reply]:
    """Every button of every card carries the id and step of the dialog (if there is one)."""
    if not DialogState.present(dialog):
        return replies
    ds = DialogState(dialog)
    if not ds.id:
        return replies
    out: list[Reply] = []
    for r in replies:
        if r.card is None:
            out.append(r)
            continue
        # Cards may be shared (the menu): never change the original. A card is plain JSON, and a
        # JSON round trip copies it several times faster than copy.deepcopy.
        card = json.loads(json.dumps(r.card))
        for button in c.buttons_of(card):
            data = button.get("data")
            if isinstance(data, dict):
                button["data"] = {**data, "dialog": ds.id, "step": ds.step, "dflow": ds.flow}
        out.append(Reply(text=r.text, card=card, summary=r.summary))
    return out


def foreign(value: dict[str, Any], current: DialogState | None) -> bool:
    """The button was made by a dialog other than the current one (or by a finished one)."""
    owner = value.get("dialog")
    if not isinstance(owner, str) or not owner:
        return False  # made before buttons carried their dialog
    return current is None or current.id != owner


def stale_step(value: dict[str, Any], current: DialogState) -> bool:
    step = value.get("step")
    return value.get("action") in STEP_BOUND and isinstance(step, int) and step != current.step


def other_dialog_reply(
    msg: Catalogue, value: dict[str, Any], titles: dict[str, str], waiting: str | None
) -> Reply:
    """"This card belongs to a finished conversation": start it again, or go on with the one
    that runs, or the menu."""
    flow_id = value.get("dflow") or value.get("flow")
    key = "ownership.other" if waiting else "ownership.finished"
    buttons: list[dict[str, Any]] = []
    if waiting is not None:
        title = msg.text("flow.resume_named", title=waiting)
        resume = c.submit(title, {"action": c.FLOW_RESUME}, style="positive")
        buttons.append(resume)
    if isinstance(flow_id, str) and flow_id in titles:
        buttons.append(
            c.submit(msg.text("ownership.start_again"), {"action": c.FLOW_START, "flow": flow_id})
        )
    buttons.append(c.submit(msg.text("offer.menu"), {"action": c.MENU}))
    body = [c.text(msg.text(key)), *(c.action_set([b]) for b in buttons)]
    return Reply(card=c.card(body), summary=msg.text(key))


def discards(value: dict[str, Any], current: DialogState | None, starts: str | None) -> bool:
    """Pressing this would throw away a running dialog's answers, and the user has not said yes."""
    if starts is None or current is None or current.status != "active" or not current.history:
        return False
    return value.get("confirmed") is not True


def confirm_reply(msg: Catalogue, value: dict[str, Any], running: str, new: str) -> Reply:
    yes = {k: v for k, v in value.items() if k not in ("dialog", "step", "dflow")}
    yes["confirmed"] = True
    body = [
        c.text(msg.text("ownership.confirm", running=running, new=new)),
        c.action_set(
            [c.submit(msg.text("ownership.keep"), {"action": c.FLOW_RESUME}, style="positive")]
        ),
        c.action_set([c.submit(msg.text("ownership.discard"), yes)]),
    ]
    return Reply(card=c.card(body), summary=msg.text("ownership.confirm", running=running, new=new))
