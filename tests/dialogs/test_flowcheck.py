"""dialogs.flowcheck: the bundled flows are sound, and each kind of broken flow is caught with a
message that names the file and the node (fixtures in tests/dialogs/fixtures/flows-broken)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli.main import main
from dialogs.flowcheck import validate
from dialogs.flows import FlowLoadError, load_flows
from knowledge.loader import DEFAULT_DIR

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "flows-broken"

# case → (file, where (flow:node or a schema path), fragment of the message)
CASES: dict[str, list[tuple[str, str | None, str]]] = {
    "unknown_key": [("flows/a.yaml", "nodes.q.question.colour", "okänd nyckel 'colour'")],
    "bad_kind": [("flows/a.yaml", "nodes.done", "okänd nodtyp")],
    "missing_start": [("flows/a.yaml", None, "start-noden 'begin' finns inte")],
    "invalid_yaml": [("flows/a.yaml", None, "ogiltig YAML (rad")],
    "empty_file": [("flows/a.yaml", None, "filen är tom")],
    "duplicate_flow_id": [("flows/b.yaml", "same", "flödes-id 'same' finns redan i flows/a.yaml")],
    "unquoted_yes": [("flows/a.yaml", "nodes.q.question.choices.0.value", "valid string")],
    "too_many_choices": [("flows/a.yaml", "nodes.q.question", "högst 10 svarsalternativ")],
    "missing_next": [("flows/a.yaml", "a:q", "next pekar på noden 'nowhere' som inte finns")],
    "unreachable": [("flows/a.yaml", "a:orphan", "noden kan inte nås från start")],
    "dead_end": [
        ("flows/a.yaml", "a:loop1", "ingen väg till ett utfall"),
        ("flows/a.yaml", "a:loop2", "ingen väg till ett utfall"),
    ],
    "silent_cycle": [("flows/a.yaml", "a:spin", "slinga utan fråga")],
    "unknown_action": [("flows/a.yaml", "a:act", "okänd åtgärd 'guess'")],
    "action_results": [
        ("flows/a.yaml", "a:act", "resultatet 'consult' från 'assess' saknar next"),
        ("flows/a.yaml", "a:act", "'assess' kan inte ge resultatet 'maybe'"),
    ],
    "bad_params": [("flows/a.yaml", "a:act", "ogiltiga params för 'check'")],
    "no_sources": [("flows/a.yaml", "a:done", "utfallet anger inga källor")],
    "unknown_sources": [
        ("flows/a.yaml", "a:done", "okänt seed-dokument '999'"),
        ("flows/a.yaml", "a:done", "okänd lag 'XYZ'"),
        ("flows/a.yaml", "a:more", "ämnet 'no-such-topic' finns inte"),
    ],
    "unknown_fact": [("flows/a.yaml", "a:q", "okänt faktum 'acute'")],
    "bad_fact_value": [("flows/a.yaml", "a:q", "'certainty' kan inte vara 'maybe'")],
    "unknown_placeholder": [("flows/a.yaml", "a:q", "okänd platshållare {school_nam}")],
}


def _case_dir(case: str, tmp_path: Path) -> Path:
    target = tmp_path / case
    shutil.copytree(FIXTURES / "_base", target)
    shutil.copytree(FIXTURES / case / "flows", target / "flows")
    return target


def test_bundled_flows_are_sound() -> None:
    assert validate(DEFAULT_DIR) == []
    flows = load_flows(DEFAULT_DIR)
    assert {"concern", "report", "contacts", "sharing"} <= flows.keys()


def test_valid_fixture_has_no_problems(tmp_path: Path) -> None:
    assert validate(_case_dir("valid", tmp_path)) == []


def test_every_fixture_case_is_listed() -> None:
    on_disk = {p.name for p in FIXTURES.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert on_disk == set(CASES) | {"valid"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_flow_is_caught(case: str, tmp_path: Path) -> None:
    problems = validate(_case_dir(case, tmp_path))
    assert problems, f"{case}: no problem found"
    for file, where, fragment in CASES[case]:
        hits = [
            p
            for p in problems
            if p.file == file and fragment in p.message and (where is None or p.topic == where)
        ]
        assert hits, f"{case}: expected {file} [{where}] '{fragment}', got:\n" + "\n".join(
            map(str, problems)
        )


def test_missing_flows_directory(tmp_path: Path) -> None:
    assert [p.message for p in validate(tmp_path)] == ["katalogen med flöden saknas"]
    (tmp_path / "flows").mkdir()
    assert [p.message for p in validate(tmp_path)] == ["inga flöden (flows/*.yaml)"]


def test_load_flows_lists_every_problem(tmp_path: Path) -> None:
    with pytest.raises(FlowLoadError) as err:
        load_flows(_case_dir("duplicate_flow_id", tmp_path))
    assert "finns redan" in str(err.value)


def test_kb_check_reports_a_broken_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(DEFAULT_DIR, kb)
    shutil.copy(FIXTURES / "unknown_action" / "flows" / "a.yaml", kb / "flows" / "broken.yaml")
    assert main(["kb", "check", "--dir", str(kb)]) == 1
    out = capsys.readouterr()
    assert "flows/broken.yaml" in out.out + out.err
    assert "okänd åtgärd 'guess'" in out.out + out.err
