"""Recognising a child at risk in free text (knowledge/situations.py): the concern model, the
acute safety net and "jag är orolig för en elev"."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from knowledge.loader import DEFAULT_DIR, KnowledgeError
from knowledge.situations import SituationDetector

# Blind sets written from shared/spec only, each measured once and then retired (their misses were
# read): kept as regression gates for the thresholds of the contract (benchmarks/concern-2026-12).
SETS = Path(__file__).resolve().parents[2] / "benchmarks" / "concern-2026-12"
RETIRED_SETS = [SETS / "set_c1.yaml", SETS / "set_c2.yaml", SETS / "set_c3.yaml"]


@pytest.fixture(scope="module")
def detector() -> SituationDetector:
    return SituationDetector.build()


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
        "she says she's afraid to go home tonight because her dad will hurt her",
        "Eleven har blod på tröjan och säger att styvpappan slog henne i morse",
    ],
)
def test_acute_messages_are_caught(detector: SituationDetector, text: str) -> None:
    s = detector(text)
    assert s.acute and s.concern, text


@pytest.mark.parametrize(
    "text",
    [
        "Måste jag berätta för föräldrarna att jag anmäler?",
        "vad är BUS",
        "kan jag va anonym",
        "Hur lång tid tar en utredning hos soc?",
        "Vad händer efter en orosanmälan?",
        "Vilken kommun ska ha anmälan om barnet bor i Solna?",
        "Hur bokar jag ett grupprum till nästa vecka?",
        "vad är det för väder i morgon",
        "kopiatorn på plan 2 har papperstrassel igen",
        "I can't log in to Teams on my phone",
    ],
)
def test_ordinary_questions_are_neither(detector: SituationDetector, text: str) -> None:
    s = detector(text)
    assert not s.concern and not s.acute, text


@pytest.mark.parametrize(
    "text",
    [
        # Issue 12, "What was found" 5 and 6: declined or answered with an article before.
        "Eleven har könsstympats under sommarlovet",
        "En elev visar sexuella bilder som en vuxen man skickat till henne",
        "one of my students told me his mom hits him with a belt. what should i do?",
        "eleven säger att pappa slår henne",
        "hon sager att pappa slar henne",
        "En morbror som inte bor hemma slog henne när hon sov över i helgen",
    ],
)
def test_described_harm_is_a_concern(detector: SituationDetector, text: str) -> None:
    assert detector(text).concern, text


@pytest.mark.parametrize(
    "text",
    [
        "jag är orolig för en elev",
        "Jag är orolig för ett barn",
        "jag ar orolig for en elev i min klass",
        "Vi är oroliga för ett av barnen på avdelningen",
        "I'm worried about one of my students",
    ],
)
def test_a_worry_about_a_child_starts_the_dialog(detector: SituationDetector, text: str) -> None:
    s = detector(text)
    assert s.worry_only and s.concern, text


def test_a_long_message_with_a_worry_is_not_worry_only(detector: SituationDetector) -> None:
    s = detector("jag är orolig för en elev som har haft blåmärken på armarna tre veckor i rad nu")
    assert s.concern and not s.worry_only


@pytest.mark.parametrize("path", RETIRED_SETS, ids=lambda p: p.stem)
def test_the_retired_blind_sets_meet_the_contract_thresholds(
    detector: SituationDetector, path: Path
) -> None:
    messages = yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    situations = [m for m in messages if m["concern"]]
    acute = [m for m in situations if m["acute"]]
    others = [m for m in messages if not m["concern"]]
    assert len(situations) >= 40 and len(acute) >= 12 and len(others) >= 40
    recognised = sum(detector(m["text"]).concern for m in situations) / len(situations)
    acute_caught = sum(detector(m["text"]).acute for m in acute) / len(acute)
    flagged = sum(detector(m["text"]).concern for m in others) / len(others)
    assert recognised >= 0.95 and acute_caught == 1.0 and flagged <= 0.10


def test_broken_files_are_named(tmp_path: Path) -> None:
    base = tmp_path / "data"
    shutil.copytree(DEFAULT_DIR, base)
    (base / "situations.yaml").write_text(
        "concern_threshold: 2\nacute_threshold: 0.3\nacute_phrases: []\n", encoding="utf-8"
    )
    (base / "situations-training.yaml").write_text(
        "messages:\n"
        + "".join(f"  - {{text: x{i}, concern: false, acute: true}}\n" for i in range(25)),
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError) as info:
        SituationDetector.build(base)
    text = str(info.value)
    assert "situations.yaml" in text and "concern_threshold" in text and "worry" in text
    assert "båda slagen" in text and "akut men inte concern" in text


def test_fast_scoring_equals_scikit_learn(detector: SituationDetector) -> None:
    """The detector scores a message from the vectorizers' own analyzers and vocabularies; the
    numbers must be scikit-learn's, on every training message and on unseen text."""
    import numpy as np

    from knowledge.situations import load_files

    _settings, messages = load_files()
    texts = [m.text for m in messages] + ["", "??", "Eleven säger att pappa slår henne", "x" * 900]
    fast = np.array([detector.models.probabilities(t) for t in texts])
    assert np.allclose(fast, detector.models.reference(texts), atol=1e-9)
