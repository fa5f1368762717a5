"""The terminal chat shows the cards readably (issue 16): bold without raw asterisks, links,
numbered buttons, and "Skriv numret" instead of "Tryck på ett svar"."""

from __future__ import annotations

from samverkan.cardtext import ansi_bold, plain, render_card
from tests.dialogs.conftest import Talk


async def test_a_question_card_in_the_terminal(talk: Talk) -> None:
    await talk.press_menu("concern")
    out = "\n".join(render_card(r.card).text for r in talk.last if r.card)
    assert "Tryck på ett svar" not in out
    assert "Skriv numret på ett svar" in out
    assert "[1] Ja" in out and "[2] Nej" in out and "[3] Vet inte" in out
    assert "*" not in out


async def test_an_outcome_with_bold_and_links_in_the_terminal(talk: Talk) -> None:
    await talk.press_menu("concern")
    await talk.press("Nej")
    await talk.press("Våld eller hot från vuxen i hemmet")
    await talk.press("Ja")
    await talk.say("Lindskolan")
    await talk.say("Norrdal")
    out = "\n".join(render_card(r.card).text for r in talk.last if r.card)
    assert "*" not in out
    assert "Socialtjänstlagen 19 kap. 1 §" in out and "<https://www.riksdagen.se/" in out
    bold = "\n".join(render_card(r.card, bold=ansi_bold).text for r in talk.last if r.card)
    assert "\033[1mGör så här nu\033[0m" in bold


def test_markdown_bold_in_text() -> None:
    assert plain("**BUS** är *viktigt* men 3 * 4 är 12") == "BUS är viktigt men 3 * 4 är 12"
    assert plain("[Läs](https://x.se)") == "Läs <https://x.se>"
