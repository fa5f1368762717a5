"""Dated rule cases as pytest items (openfisca-style): every case in the knowledge base's
rules/cases/*.yaml (beside the rules they test) is a test of its own.

A case names a day, the facts and the expected assessment (or the expected error); see
`knowledge.rule_cases.RuleCase`. The same cases are run by `samverkan kb check` to prove that every
rule is tested on both sides of every date, so a case is written once and checked twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from knowledge.rule_cases import LoadedCase, default_cases_dir, load_cases, run_case
from knowledge.rules import RuleSet, load_rules

RULESET = pytest.StashKey[RuleSet]()
CASES = default_cases_dir()


def _ruleset(config: pytest.Config) -> RuleSet:
    """The bundled rules, loaded once per test session."""
    if RULESET not in config.stash:
        config.stash[RULESET] = load_rules()
    return config.stash[RULESET]


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    # The cases live in the knowledge data; this folder's marker file brings them in.
    if file_path.name == "test_rule_cases.txt" and file_path.parent == Path(__file__).parent:
        return RuleCases.from_parent(parent, path=file_path)
    return None


class RuleCaseError(Exception):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


class RuleCases(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        cases, problems = load_cases(CASES, CASES.parent.parent)
        if problems:
            raise pytest.Collector.CollectError(
                "ogiltig testfil:\n" + "\n".join(str(p) for p in problems)
            )
        for lc in cases:
            yield RuleCaseItem.from_parent(self, name=f"{lc.file}::{lc.case.name}", loaded=lc)


class RuleCaseItem(pytest.Item):
    def __init__(self, *, loaded: LoadedCase, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaded = loaded

    def runtest(self) -> None:
        result = run_case(_ruleset(self.config), self.loaded.case)
        if result.failures:
            raise RuleCaseError(result.failures)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, RuleCaseError):
            c = self.loaded.case
            return "\n".join(
                [
                    f"{self.loaded.file}:{self.loaded.line or '?'} {c.name} ({c.date.isoformat()})",
                    f"  facts: {c.facts}",
                    *(f"  {line}" for line in excinfo.value.lines),
                ]
            )
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.loaded.line - 1 if self.loaded.line else None
        return CASES.parent.parent / self.loaded.file, line, f"rule case: {self.name}"
