"""Reading a forum file (YAML) for import: every forum it defines, or every problem found, each
named by the file, the line, the forum id and the field.

An import file may be at most `MAX_IMPORT_BYTES` (5 MB), UTF-8 text without NUL bytes, nested at
most `MAX_YAML_DEPTH` levels. The forums' own rules are checked by `forums.schedule.parse_forum`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from common.yaml_safe import MAX_DEPTH, DepthLimitedLoader, TooDeepError
from forums import definition, texts
from forums.model import Forum

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_YAML_DEPTH = MAX_DEPTH

# --- errors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int | None
    message: str
    forum: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        what = []
        if self.forum:
            what.append(texts().text("repository.where_forum", forum=self.forum))
        if self.field:
            what.append(texts().text("repository.where_field", field=self.field))
        return f"{where}: {', '.join(what) + ': ' if what else ''}{self.message}"


class ForumImportError(Exception):
    """The file was not imported; `problems` lists every error found."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --- reading the YAML file (with line numbers) -------------------------------------------------


class _Loader(DepthLimitedLoader):
    """The depth-limited SafeLoader with this module's constructors (if any)."""


def parse_forums_yaml(text: str, filename: str) -> tuple[list[Forum], list[ImportProblem]]:
    """Every forum of a file, or every problem found (file, line, forum id, field)."""
    problems: list[ImportProblem] = []

    def problem(line: int | None, message: str, forum: str | None = None, fld: str | None = None):
        problems.append(ImportProblem(filename, line, message, forum, fld))

    loader = _Loader(text)
    try:
        try:
            root = loader.get_single_node()
        except TooDeepError as exc:
            problem(exc.line, texts().text("repository.too_deep", max=MAX_YAML_DEPTH))
            return [], problems
        except RecursionError:  # pragma: no cover - the depth limit comes first
            problem(None, texts().text("repository.too_deep", max=MAX_YAML_DEPTH))
            return [], problems
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            detail = getattr(exc, "problem", None) or str(exc)
            problem(line, texts().text("repository.bad_yaml", problem=detail))
            return [], problems
        if root is None:
            problem(None, texts().text("repository.empty"))
            return [], problems
        if not isinstance(root, yaml.MappingNode):
            problem(root.start_mark.line + 1, texts().text("repository.not_mapping"))
            return [], problems
        items_node: yaml.Node | None = None
        for key_node, value_node in root.value:
            key = loader.construct_object(key_node, deep=True)
            if key == "forums":
                items_node = value_node
            else:
                unknown = texts().text("repository.unknown_key", key=key)
                problem(key_node.start_mark.line + 1, unknown)
        if items_node is None:
            problem(1, texts().text("repository.no_forums"))
            return [], problems
        if isinstance(items_node, yaml.ScalarNode) and loader.construct_object(items_node) is None:
            return [], problems  # `forums:` with nothing under it: an empty schedule
        if not isinstance(items_node, yaml.SequenceNode):
            line = items_node.start_mark.line + 1
            problem(line, texts().text("repository.not_list"))
            return [], problems

        forums: list[Forum] = []
        first_line: dict[str, int] = {}
        for item in items_node.value:
            item_line = item.start_mark.line + 1
            if not isinstance(item, yaml.MappingNode):
                problem(item_line, texts().text("repository.item_not_mapping"))
                continue
            raw: dict[str, Any] = {}
            lines: dict[str, int] = {}
            broken: set[str] = set()
            for key_node, value_node in item.value:
                key = loader.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if not isinstance(key, str):
                    problem(line, texts().text("repository.field_name", key=key))
                    continue
                if key in raw:
                    twice = texts().text("repository.field_twice", line=lines[key])
                    problem(line, twice, fld=key)
                    continue
                lines[key] = line
                try:
                    raw[key] = loader.construct_object(value_node, deep=True)
                except (yaml.YAMLError, ValueError) as exc:  # e.g. a date like 2026-02-30
                    detail = getattr(exc, "problem", None) or exc
                    problem(line, texts().text("repository.bad_value", problem=detail), fld=key)
                    raw[key] = None
                    broken.add(key)
            forum_id = raw.get("id") if isinstance(raw.get("id"), str) else None
            forum, field_problems = definition.parse_forum(
                {k: v for k, v in raw.items() if k not in broken}
            )
            if broken:
                forum = None
                field_problems = [fp for fp in field_problems if fp.field not in broken]
            for fp in field_problems:
                problem(lines.get(fp.field, item_line), fp.message, forum_id, fp.field)
            if forum_id is not None:
                if forum_id in first_line:
                    problem(
                        lines.get("id", item_line),
                        texts().text(
                            "repository.duplicate_id", forum=forum_id, line=first_line[forum_id]
                        ),
                        forum_id,
                        "id",
                    )
                    continue
                first_line[forum_id] = lines.get("id", item_line)
            if forum is not None:
                forums.append(forum)
        return forums, problems
    except yaml.YAMLError as exc:  # a constructor error (e.g. a bad date like 2026-02-30)
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        detail = getattr(exc, "problem", None) or exc
        problem(line, texts().text("repository.bad_value", problem=detail))
        return [], problems
    except ValueError as exc:  # PyYAML raises ValueError for impossible dates
        problem(None, texts().text("repository.bad_value", problem=exc))
        return [], problems
    finally:
        loader.dispose()


async def read_forum_file(path: str | Path) -> str:
    """The text of an import file; ForumImportError when it cannot be read, is too large, is
    binary or is not UTF-8."""
    p = Path(path)

    def read() -> bytes:
        # One byte more than the limit tells a file that is too large (or endless, like
        # /dev/zero) without reading it all.
        with p.open("rb") as f:
            return f.read(MAX_IMPORT_BYTES + 1)

    def refuse(message: str, line: int | None = None) -> ForumImportError:
        return ForumImportError([ImportProblem(str(path), line, message)])

    try:
        data = await asyncio.to_thread(read)
    except OSError as exc:
        unreadable = texts().text("repository.unreadable", problem=exc.strerror or exc)
        raise refuse(unreadable) from None
    if len(data) > MAX_IMPORT_BYTES:
        mb = MAX_IMPORT_BYTES // (1024 * 1024)
        raise refuse(texts().text("repository.too_big", mb=mb))
    if b"\x00" in data:
        raise refuse(texts().text("repository.binary"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise refuse(texts().text("repository.not_utf8"), line) from None
    return text
