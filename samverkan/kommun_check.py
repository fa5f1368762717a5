"""Checks of a kommun profile that need the feature packages: its `forums.yaml` parsed as
`samverkan forums import` would, and its `registry.yaml` as `samverkan registry import` would
(with every reference resolved inside the file). knowledge.kommun checks the rest.

Used by `samverkan kb check` and at start (`load_checked`): a broken profile stops the server.
Two profiles may not share a registry or forum id ("shared-id"): every kommun's records live
in one database, where an id belongs to one kommun.
"""

from __future__ import annotations

from pathlib import Path

from contacts.file_formats import parse_path
from contacts.records import TABLES, RegistryData
from contacts.references import check_refs
from forums.file_import import parse_forums_yaml
from knowledge.kommun import Kommuner, load_kommuner, profile_dirs
from knowledge.kommun_model import KommunError, KommunProblem
from knowledge.loader import KnowledgeBase
from samverkan import texts


def feature_problems(directory: Path) -> list[KommunProblem]:
    """Problems of a profile folder's forum schedule and registry (each named by its code)."""
    problems: list[KommunProblem] = []
    rel = directory.name + "/"
    forums = directory / "forums.yaml"
    if forums.exists():
        try:
            text = forums.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(KommunProblem(rel + "forums.yaml", "bad-forums", str(exc)))
        else:
            _, found = parse_forums_yaml(text, rel + "forums.yaml")
            problems += [KommunProblem(rel + "forums.yaml", "bad-forums", str(p)) for p in found]
    registry = directory / "registry.yaml"
    if registry.exists():
        parsed = parse_path(registry)
        issues = list(parsed.errors)
        if not issues:
            issues = check_refs(parsed, RegistryData(), {t: set() for t in TABLES})
        problems += [KommunProblem(rel + "registry.yaml", "bad-registry", str(i)) for i in issues]
    return problems


def shared_ids(folders: list[Path]) -> list[KommunProblem]:
    """Ids that two profiles' example registries or forum schedules both use: each kommun's
    records live in one database, where an id is unique (an import refuses another kommun's)."""
    owners: dict[tuple[str, str], str] = {}
    problems: list[KommunProblem] = []

    def claim(folder: Path, file: str, what: str, record: str) -> None:
        first = owners.setdefault((what, record), folder.name)
        if first != folder.name:
            message = texts().text("kommun_check.shared_id", id=record, other=first)
            problems.append(KommunProblem(f"{folder.name}/{file}", "shared-id", message, record))

    for folder in folders:
        if (folder / "registry.yaml").exists():
            parsed = parse_path(folder / "registry.yaml")
            for table in TABLES:
                for record in sorted(parsed.ids[table]):
                    claim(folder, "registry.yaml", table, record)
        if (folder / "forums.yaml").exists():
            try:
                text = (folder / "forums.yaml").read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue  # reported by feature_problems
            forums, _ = parse_forums_yaml(text, "forums.yaml")
            for forum in forums:
                claim(folder, "forums.yaml", "forums", forum.id)
    return problems


def check_all(kb: KnowledgeBase, extra_dir: Path | None = None) -> list[KommunProblem]:
    """Every problem of every profile (built-in and under `extra_dir`)."""
    problems: list[KommunProblem] = []
    try:
        load_kommuner(kb, extra_dir=extra_dir)
    except KommunError as exc:
        problems += exc.problems
    folders = list(profile_dirs(kb.directory, extra_dir).values())
    for folder in folders:
        problems += feature_problems(folder)
    return problems + shared_ids(folders)


def load_checked(
    kb: KnowledgeBase,
    *,
    extra_dir: Path | None,
    default: str | None,
    tenants: dict[str, str],
) -> Kommuner:
    """The profiles for a server: KommunError naming every problem of any profile, of the
    chosen ones' forum and registry files, and of the settings that choose them."""
    problems: list[KommunProblem] = []
    kommuner: Kommuner | None = None
    try:
        kommuner = load_kommuner(kb, extra_dir=extra_dir, default=default, tenants=tenants)
    except KommunError as exc:
        problems += exc.problems
    folders = list(profile_dirs(kb.directory, extra_dir).values())
    for folder in folders:
        problems += feature_problems(folder)
    problems += shared_ids(folders)
    if problems or kommuner is None:
        raise KommunError(problems)
    return kommuner
