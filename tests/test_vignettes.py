"""The development vignettes (shared/eval/vignettes.yaml, copied to tests/data) through the rule
engine and through `samverkan assess --batch`: both must give the expected assessment.

The vignettes carry no date; the expected assessment holds under every version of the rules, so
each vignette is assessed on a day in every period of the rule base and on today.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.main import main
from common.clock import SystemClock, local
from knowledge.rules import RuleSet, load_rules

DATA = Path(__file__).parent / "data" / "vignettes.yaml"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "eval" / "vignettes.yaml"
# One day in each period of the rule base: old SoL, new SoL first wording, current wording.
DAYS = [date(2024, 3, 1), date(2025, 9, 1), date(2026, 11, 22)]


def _vignettes() -> list[dict[str, Any]]:
    with DATA.open(encoding="utf-8") as fh:
        return list(yaml.safe_load(fh)["vignettes"])


VIGNETTES = _vignettes()


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def test_copy_matches_shared_eval_data() -> None:
    if not SHARED.exists():
        pytest.skip("shared/eval is not next to this checkout")
    assert DATA.read_bytes() == SHARED.read_bytes(), "tests/data/vignettes.yaml is out of date"


def test_there_are_vignettes_for_every_outcome() -> None:
    outcomes = {v["expect"]["outcome"] for v in VIGNETTES}
    guardians = {v["expect"]["inform_guardians"] for v in VIGNETTES}
    assert outcomes == {"emergency", "report", "consult"}
    assert guardians == {"consult_first", "usually"}


@pytest.mark.parametrize("day", DAYS, ids=str)
@pytest.mark.parametrize("vignette", VIGNETTES, ids=lambda v: v["id"])
def test_engine(rules: RuleSet, vignette: dict[str, Any], day: date) -> None:
    result = rules.assess(vignette["facts"], day=day)
    assert result.outcome == vignette["expect"]["outcome"], vignette["story"]
    assert result.inform_guardians == vignette["expect"]["inform_guardians"], vignette["story"]
    assert result.by_phone_today == vignette["expect"]["by_phone_today"], vignette["story"]
    assert result.reasons and all(r.sources for r in result.reasons)


def _batch_file(tmp_path: Path) -> Path:
    path = tmp_path / "facts.jsonl"
    path.write_text(
        "".join(json.dumps(v["facts"], ensure_ascii=False) + "\n" for v in VIGNETTES),
        encoding="utf-8",
    )
    return path


def _check_lines(lines: list[str]) -> None:
    assert len(lines) == len(VIGNETTES)
    for vignette, line in zip(VIGNETTES, lines, strict=True):
        got = json.loads(line)
        assert set(got) == {"outcome", "inform_guardians", "by_phone_today", "reasons"}
        assert got["outcome"] == vignette["expect"]["outcome"], vignette["id"]
        assert got["inform_guardians"] == vignette["expect"]["inform_guardians"], vignette["id"]
        assert got["by_phone_today"] is vignette["expect"]["by_phone_today"], vignette["id"]
        for reason in got["reasons"]:
            assert set(reason) == {"rule", "text", "sources"}
            assert reason["sources"]


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_cli_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str], day: date) -> None:
    code = main(["assess", "--batch", str(_batch_file(tmp_path)), "--date", day.isoformat()])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""
    _check_lines(captured.out.splitlines())


def test_cli_in_process_default_date_is_today(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert local(SystemClock().now()).date() >= load_rules().covers_from
    code = main(["assess", "--batch", str(_batch_file(tmp_path))])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    _check_lines(captured.out.splitlines())


def test_cli_console_script(tmp_path: Path) -> None:
    """The installed `samverkan` script, as administrators and acceptance checks run it."""
    exe = shutil.which("samverkan", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "cli.main"]
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    env.pop("PYTHONIOENCODING", None)
    proc = subprocess.run(
        [*command, "assess", "--batch", str(_batch_file(tmp_path)), "--date", "2026-11-22"],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    text = proc.stdout.decode("utf-8")  # UTF-8 even under a C locale
    assert "å" in text or "ä" in text
    _check_lines(text.splitlines())
