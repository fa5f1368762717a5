"""Cards belong to their dialog (issue 16): a press from a finished or other dialog says so and
leaves the running one alone; a button that would throw away a running dialog asks first."""

from __future__ import annotations

from typing import Any

from dialogs import cards as c
from tests.dialogs.conftest import Talk

FINISHED = "hör till ett samtal som är avslutat"


async def _violence_case(talk: Talk) -> None:
    await talk.press_menu("concern")
    await talk.press("Nej")
    await talk.press("Våld eller hot från vuxen i hemmet")
    await talk.press("Ja")
    await talk.say("Lindskolan")
    await talk.say("Norrdal")


def _data(talk: Talk, title: str) -> dict[str, Any]:
    return dict(talk.button(title)["data"])


async def test_every_button_carries_its_dialog_and_step(talk: Talk) -> None:
    await talk.press_menu("concern")
    dialog_id = talk.dialog["id"]
    await talk.press("Nej")
    for button in talk.buttons():
        assert button["data"]["dialog"] == dialog_id
        assert button["data"]["step"] == 1


async def test_old_change_answer_after_the_dialog_finished_does_not_touch_the_draft(
    talk: Talk,
) -> None:
    await _violence_case(talk)
    old_back = _data(talk, "Ändra svar")
    await talk.press("Skriv orosanmälan")
    await talk.say("Hon hade blåmärken på armen")
    draft = dict(talk.dialog)
    assert draft["flow"] == "report" and draft["node"] == "when"
    await talk.send(talk.incoming(value=old_back))
    text = talk.texts()
    assert FINISHED in text
    assert "Fortsätt: Skriv orosanmälan" in text
    assert talk.dialog["node"] == "when" and talk.dialog["history"] == draft["history"]


async def test_a_card_from_dialog_a_pressed_while_b_runs(talk: Talk) -> None:
    await talk.press_menu("concern")
    a_answer = _data(talk, "Nej")
    await talk.press("Avbryt")
    await talk.press_menu("sharing")
    before = dict(talk.dialog)
    await talk.send(talk.incoming(value=a_answer))
    assert FINISHED in talk.texts()
    assert talk.dialog["flow"] == "sharing" and talk.dialog["node"] == before["node"]
    # Starting A again is one press away.
    await talk.press("Börja om det samtalet")
    assert talk.dialog["flow"] == "concern"


async def test_a_finished_and_deleted_dialog_offers_to_start_again(talk: Talk) -> None:
    await talk.press_menu("concern")
    answer = _data(talk, "Nej")
    await talk.say("avbryt")
    await talk.send(talk.incoming(value=answer))
    assert FINISHED in talk.texts()
    assert "Börja om det samtalet" in talk.texts()
    assert not talk.dialog


async def test_change_answer_from_an_older_step_shows_the_question_now(talk: Talk) -> None:
    await talk.press_menu("concern")
    await talk.press("Nej")
    old_back = _data(talk, "Ändra svar")
    await talk.press("Våld eller hot från vuxen i hemmet")
    node = talk.dialog["node"]
    await talk.send(talk.incoming(value=old_back))
    assert talk.dialog["node"] == node  # nothing undone
    assert "redan besvarad" in talk.texts()


async def test_a_button_that_would_discard_a_running_dialog_asks_first(talk: Talk) -> None:
    await talk.press_menu("concern")
    await talk.press("Nej")
    await talk.press("Omsorgsbrist: mat, kläder, tillsyn")
    kept = dict(talk.dialog)
    # "Jag är orolig för ett barn" as it appears under "Läs också", pressed mid-dialog.
    start = {"action": c.FLOW_START, "flow": "concern", "dialog": kept["id"], "step": 2}
    await talk.send(talk.incoming(value=start))
    assert "Du är mitt i ”Jag är orolig för ett barn”" in talk.texts()
    assert talk.dialog == kept
    await talk.press("Nej, fortsätt där jag var")
    assert talk.dialog["node"] == kept["node"] and talk.dialog["facts"] == kept["facts"]
    # A menu button asks too; "Ja" starts afresh.
    await talk.send(talk.incoming(value={"action": c.MENU, "item": "contacts"}))
    assert "försvinner svaren" in talk.texts()
    await talk.press("Ja, börja med det nya")
    assert talk.dialog["flow"] == "contacts"


async def test_no_question_when_nothing_would_be_lost(talk: Talk) -> None:
    await talk.press_menu("concern")
    await talk.send(talk.incoming(value={"action": c.MENU, "item": "sharing"}))
    assert talk.dialog["flow"] == "sharing"
