"""Free text inside a dialog is read as an answer where it can be (issue 16), and an answer that
tells of more danger still gets the 112 card."""

from __future__ import annotations

import pytest

from tests.dialogs.conftest import Talk


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("kanske", "unsure"),
        ("vet inte riktigt", "unsure"),
        ("kanske, hon har sagt att hon är rädd för mammas nya kille", "unsure"),
        ("jag är inte säker", "unsure"),
        ("nej", False),
        ("absolut inte", False),
        ("nej absolut inte", False),
        ("jo", True),
        ("ja hon sa det", True),
    ],
)
async def test_typed_words_answer_the_yes_no_question(
    talk: Talk, typed: str, expected: object
) -> None:
    await talk.press_menu("concern")
    await talk.say(typed)
    assert talk.dialog["facts"]["acute_danger"] == expected, talk.texts()


async def test_yes_with_a_remark_answers_the_disclosure_question(talk: Talk) -> None:
    await talk.press_menu("concern")
    await talk.press("Nej")
    await talk.press("Våld eller hot från vuxen i hemmet")
    await talk.say("ja hon sa det till mig i morse")
    assert talk.dialog["facts"]["child_disclosed"] is True


async def test_a_question_mid_dialog_is_answered_with_the_way_back(talk: Talk) -> None:
    await talk.press_menu("concern")
    await talk.press("Nej")
    await talk.say("Vad händer efter en anmälan?")
    text = talk.texts()
    assert "Svar på din fråga. Sedan kan du fortsätta där du var." not in text
    assert "Fortsätt: Jag är orolig för ett barn" in text
    assert talk.dialog["node"] == "about"


async def test_a_typed_answer_that_tells_of_acute_danger_gets_the_112_card(talk: Talk) -> None:
    await talk.press_menu("concern")
    await talk.say("vet inte riktigt, hon vågar inte gå hem i kväll för pappa slår henne")
    text = talk.texts()
    assert talk.dialog["facts"]["acute_danger"] == "unsure"
    assert "Är barnet i fara just nu? Ring 112." in text
