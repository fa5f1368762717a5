"""`samverkan chat`: the bot in the terminal; cards as text, a typed number presses a button."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def run_chat(tmp_path: Path, lines: list[str]) -> str:
    env = {**os.environ, "SAMVERKAN_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.sqlite3'}"}
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "chat"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


def test_welcome_menu_and_pressing_a_number(tmp_path: Path) -> None:
    out = run_chat(tmp_path, ["2", "ja", "avsluta"])
    assert "HEJ! JAG ÄR SAMVERKANSBOTEN" in out  # the welcome card's title
    assert "[2] Jag är orolig för ett barn" in out
    assert "(Du valde: Jag är orolig för ett barn)" in out
    assert "Är barnet i akut fara just nu?" in out
    assert "Ring 112 nu." in out  # typed "ja" answered the question
    assert out.rstrip().endswith("Hej då!")


def test_question_and_state_survive_between_sessions(tmp_path: Path) -> None:
    out = run_chat(tmp_path, ["Kan jag vara anonym när jag anmäler?", "avsluta"])
    assert "Kan jag anmäla anonymt – och får vårdnadshavarna läsa anmälan?" in out
    assert "Källor" in out
    run_chat(tmp_path, ["Jag är orolig för ett barn", "nej", "avsluta"])
    again = run_chat(tmp_path, ["fortsätt", "avsluta"])
    resumed = again.split("Du:")[-2]
    assert "Vad gäller oron?" in resumed  # the second question: resumed where it was
    assert "akut fara" not in resumed
