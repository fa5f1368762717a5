"""Search trains on the labelled staff questions of a knowledge base (knowledge/data/questions/):
a labelled question teaches its topic a wording no phrasing has, a question labelled null
teaches "outside", a label that names no topic stops the build and `kb check` names it."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from cli.commands import knowledge as commands
from cli.main import main
from knowledge import questions
from knowledge.loader import DEFAULT_DIR, KnowledgeError, load
from knowledge.search import SearchIndex
from tests.conftest import cached_index

from .conftest import KB_SEARCH

DAY = date(2026, 12, 7)
# Made-up words no phrasing of the test knowledge base has.
ODD = "blixtklonk vid grindgungan, vad gäller?"
ODD_OUT = "krumelurfesten i personalrummet på fredag"


def _kb_with(tmp_path: Path, text: str) -> Path:
    kb_dir = tmp_path / "kb"
    shutil.copytree(KB_SEARCH, kb_dir)
    (kb_dir / "questions").mkdir()
    (kb_dir / "questions" / "set.yaml").write_text(text, encoding="utf-8")
    return kb_dir


LABELLED = """\
questions:
- q: Blixtklonk vid grindgungan igen, vad gäller för oss?
  topic: konsultation
- q: det var blixtklonk vid grindgungan, vad gäller?
  topic: konsultation
- q: Blixtklonk vid grindgungan på rasten, vad gäller nu?
  topic: konsultation
- q: krumelurfesten i personalrummet, vem tar med tårta?
  topic: null
- q: krumelurfesten i personalrummet är på fredag
  topic: null
"""


def test_a_labelled_wording_is_learnt_and_left_out_on_request(
    tmp_path: Path, small_index: SearchIndex
) -> None:
    kb = load(_kb_with(tmp_path, LABELLED))
    index = cached_index(kb)  # built once, then loaded by content hash
    base = small_index  # the same knowledge base without the questions
    assert index.search(ODD, day=DAY).topic == "konsultation"
    assert base.search(ODD, day=DAY).topic != "konsultation"
    # left out (cross-validation), they teach nothing: the model is the one without them
    without = SearchIndex.build(kb, leave_out=("questions/set.yaml",))
    assert np.array_equal(without.probabilities([ODD], DAY), base.probabilities([ODD], DAY))
    assert index.search(ODD_OUT, day=DAY).decision == "decline"
    # the null questions are samples of "outside": they raise its probability
    p_with = index.probabilities([ODD_OUT], DAY)[0][index.model.classes.index("")]
    p_base = base.probabilities([ODD_OUT], DAY)[0][base.model.classes.index("")]
    assert p_with > p_base


def test_a_label_naming_no_topic_stops_the_build_and_kb_check_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kb_dir = _kb_with(tmp_path, "questions:\n- q: Vad gäller?\n  topic: finns-inte\n")
    with pytest.raises(KnowledgeError) as err:
        SearchIndex.build(load(kb_dir))
    assert "finns-inte" in str(err.value)
    monkeypatch.setattr(commands, "CHECKS", (("questions", questions.validate),))
    assert main(["kb", "check", "--dir", str(kb_dir)]) == 1
    out = capsys.readouterr().out
    assert "questions/set.yaml" in out and "finns-inte" in out


@pytest.mark.parametrize(
    "text",
    ["questions: inte en lista\n", "questions:\n- q: ''\n  topic: konsultation\n", "a: [\n"],
)
def test_a_broken_question_file_is_a_problem_not_a_crash(tmp_path: Path, text: str) -> None:
    found = questions.validate(_kb_with(tmp_path, text))
    assert len(found) == 1 and found[0].file == "questions/set.yaml"


def test_the_shipped_questions_are_valid_and_many() -> None:
    assert questions.validate(DEFAULT_DIR) == []
    found, _problems = questions.read(DEFAULT_DIR)
    labels = {topic for topic, _q, _rel in found}
    assert len(found) > 5000 and None in labels
    assert labels - {None} <= {t.id for t in load().topics}


def test_serve_refuses_to_start_with_a_label_naming_no_topic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The problem is found when the start-up builds the index, before the server listens: a
    clear message and exit code 2, not a traceback."""
    kb_dir = tmp_path / "kb"
    shutil.copytree(DEFAULT_DIR, kb_dir)
    (kb_dir / "questions" / "ny.yaml").write_text(
        "questions:\n- q: Vad gäller?\n  topic: finns-inte\n", encoding="utf-8"
    )
    monkeypatch.setenv("SAMVERKAN_KB_DIR", str(kb_dir))
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    monkeypatch.setenv("SAMVERKAN_PORT", "1")  # never reached: it stops before listening
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "Boten startar inte" in err and "questions/ny.yaml" in err and "finns-inte" in err
