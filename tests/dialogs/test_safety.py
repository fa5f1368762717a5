from __future__ import annotations

import pytest

from dialogs.messages import Messages
from dialogs.safety import AcuteDetector


@pytest.fixture(scope="module")
def acute() -> AcuteDetector:
    return AcuteDetector(Messages.load().phrases("words.acute"))


@pytest.mark.parametrize(
    "text",
    [
        "En elev har tagit tabletter och mår illa, hon säger att hon inte vill leva längre",
        "ett barn pa fritids sager att mamma ska doda honom nar han kommer hem",
        "eleven vågar inte gå hem i dag",
        "Hon har självmordstankar",
        "han har en kniv i skolan och hotar",
        "barnet blöder och säger att pappa slog",
        "hon ska giftas bort i sommar",
        "Pojken har pratat om att ta livet av sig",
        "Eleven säger att han ska skickas till hemlandet och inte få komma tillbaka",
        "barnet är i fara vad gör jag",
    ],
)
def test_acute_messages_are_caught(acute: AcuteDetector, text: str) -> None:
    assert acute(text)


@pytest.mark.parametrize(
    "text",
    [
        "Måste jag berätta för föräldrarna att jag anmäler?",
        "vad är BUS",
        "kan jag va anonym",
        "Hur lång tid tar en utredning hos soc?",
        "Vi har ett barn som ofta är hemma från skolan",
        "Vad händer efter en orosanmälan?",
        "Vilken kommun ska ha anmälan om barnet bor i Solna?",
    ],
)
def test_ordinary_questions_are_not(acute: AcuteDetector, text: str) -> None:
    assert not acute(text)
