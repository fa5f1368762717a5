"""Every validation error of the loader, proven by a deliberately broken knowledge base.

Each case in tests/fixtures/kb-broken/<case>/ is laid over the valid test knowledge base
(tests/knowledge/kb-search); `expect.yaml` names the file, the topic and a fragment of every
problem that must be reported, and nothing else may be.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.commands import knowledge as commands
from cli.main import main
from knowledge.loader import KnowledgeError, Problem, load

from .conftest import KB_SEARCH

CASES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "kb-broken"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())


def build_case(case: str, target: Path) -> tuple[Path, list[dict[str, Any]]]:
    kb_dir = target / "kb"
    shutil.copytree(KB_SEARCH, kb_dir)
    source = CASES_DIR / case
    for path in source.rglob("*"):
        rel = path.relative_to(source)
        if path.is_dir() or rel.name in ("expect.yaml", "DELETE"):
            continue
        (kb_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, kb_dir / rel)
    delete = source / "DELETE"
    if delete.exists():
        for line in delete.read_text(encoding="utf-8").split():
            (kb_dir / line).unlink()
    expect = yaml.safe_load((source / "expect.yaml").read_text(encoding="utf-8"))["problems"]
    return kb_dir, expect


def test_there_are_cases() -> None:
    assert len(CASES) >= 20


def test_the_base_is_valid() -> None:
    load(KB_SEARCH)


def _matches(problem: Problem, want: dict[str, Any]) -> bool:
    return (
        problem.file == want["file"]
        and problem.topic == want["topic"]
        and want["message"] in problem.message
    )


@pytest.mark.parametrize("case", CASES)
def test_loader_reports_exactly_the_defect(case: str, tmp_path: Path) -> None:
    kb_dir, expect = build_case(case, tmp_path)
    with pytest.raises(KnowledgeError) as info:
        load(kb_dir)
    problems = info.value.problems
    for want in expect:
        assert any(_matches(p, want) for p in problems), (want, [str(p) for p in problems])
    unexpected = [p for p in problems if not any(_matches(p, w) for w in expect)]
    assert not unexpected, [str(p) for p in unexpected]


@pytest.mark.parametrize("case", CASES)
def test_kb_check_lists_the_defect(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the topic part: the test knowledge base has no rules/ or flows/.
    monkeypatch.setattr(commands, "CHECKS", ())
    kb_dir, expect = build_case(case, tmp_path)
    code = main(["kb", "check", "--dir", str(kb_dir)])
    out = capsys.readouterr().out
    assert code == 1
    assert "problem:" in out.splitlines()[0]
    numbered = [line for line in out.splitlines()[1:] if line.strip()]
    assert numbered[0].lstrip().startswith("1. ")
    for want in expect:
        where = want["file"] + (f" [{want['topic']}]" if want["topic"] else "")
        assert any(where in line and want["message"] in line for line in numbered), out


def test_lenient_load_keeps_the_valid_topics(tmp_path: Path) -> None:
    kb_dir, _ = build_case("unknown-key", tmp_path)
    kb = load(kb_dir, strict=False)
    ids = {t.id for t in kb.topics}
    assert "anmalningsplikt" in ids and "trasig-nyckel" not in ids
    assert any(p.topic == "trasig-nyckel" for p in kb.problems)


def test_a_broken_topic_file_does_not_bury_the_list_in_follow_up_errors(tmp_path: Path) -> None:
    # The glossary points at 'bus' and 'akut-fara', which live in the broken file.
    kb_dir = tmp_path / "kb"
    shutil.copytree(KB_SEARCH, kb_dir)
    (kb_dir / "topics" / "ovrigt.yaml").write_text("topics: [\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load(kb_dir)
    messages = [str(p) for p in info.value.problems]
    assert any("topics/ovrigt.yaml" in m and "ogiltig YAML" in m for m in messages)
    assert not any("pekar på okänt ämne" in m for m in messages)
    assert any("kunde inte kontrolleras" in m for m in messages)
