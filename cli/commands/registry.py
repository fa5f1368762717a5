"""`samverkan registry import|export` and `samverkan route` (shared/spec/contracts.md).

    samverkan registry import kontakter.yaml        # or .csv, or a directory of per-table CSVs
    samverkan registry export [--format yaml|csv] [--out FILE|DIR/]
    samverkan route --purpose report --school Engelbrektsskolan --home-district Norrmalm --json

Decisions (documented for administrators and scripts):
- import: all or nothing, idempotent by id (records not in the file are kept). `--replace`: the
  file is the whole registry for each table it has records in; the others of those tables are
  removed (refused while a kept record refers to them). On success a Swedish summary
  (created/updated/unchanged/removed per table) on stdout, exit 0. With any error, every error
  (file, line, field) on stderr, nothing is changed, exit 1. The file formats are described in
  `storage/registry.py`. A file that cannot be used at all (over 5 MB, binary, not UTF-8 or
  Windows-1252, YAML nested too deeply, a broken CSV) is one such error, also exit 1 – never a
  traceback; so is a database that cannot be used.
- export: YAML to stdout by default. `--format csv` writes one CSV with a `table` column; with
  `--out DIR/` (an existing directory or a path ending in /) one file per table instead. CSV
  cells that a spreadsheet would run as a formula (starting with = + - @, tab, CR or LF) get a
  single quote in front (OWASP); import removes it, so export → import gives the same registry.
- route: `--at` is ISO 8601; without an offset it is read as Stockholm local time; default now.
  `--json` prints the contract object. A bad `--at`, a name that matches nothing, an AMBIGUOUS
  name (never guessed) or missing input exit 1: with `--json` stdout gets
  `{"purpose": …, "error": {"code", "field", "message", "candidates"|"suggestions"}}`, and the
  Swedish message goes to stderr. Without `--json` the answer is readable Swedish text.
- route on an empty registry loads the bundled example registry first, as the bot does at start.
- `--kommun ID` (import, export, route; default SAMVERKAN_KOMMUN, else the example profile):
  whose registry. Each kommun on the server has its own; an import never changes or removes
  another kommun's records and refuses an id another kommun uses. The example registry route
  loads is that kommun's profile's registry.yaml. An unknown kommun exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.exc import SQLAlchemyError

from cli import texts
from common.clock import Clock, SystemClock
from contacts.model import LOCAL_TZ
from contacts.records import TABLES
from contacts.registry import ImportReport, RegistryService
from contacts.routing import Contact, RouteResult
from knowledge.kommun import choose_kommun, profile_dirs
from knowledge.kommun_model import KommunError
from samverkan.settings import Settings
from storage.db import Database, DatabaseUrlError


def _utf8(stream: TextIO) -> TextIO:
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(encoding="utf-8")
    return stream


class _Misuse(Exception):
    """A wrong --kommun: the message has been printed (exit 2)."""


def _database() -> Database:
    return Database(Settings().database_url)


@dataclass(frozen=True)
class Scope:
    """Whose registry a command works on, and the server's default kommun (who owns the
    records from before each kommun had its own registry)."""

    kommun: str | None
    default: str | None
    example: Path | None  # the kommun profile's registry.yaml


def scope(args: argparse.Namespace) -> Scope:
    """KommunError when --kommun (or SAMVERKAN_KOMMUN) names no profile."""
    settings = Settings()
    folders = profile_dirs(settings.kb_dir, settings.kommun_dir)
    default = choose_kommun(None, settings.kommun, extra_dir=settings.kommun_dir,
                            kb_dir=settings.kb_dir)
    kommun = choose_kommun(getattr(args, "kommun", None), settings.kommun,
                           extra_dir=settings.kommun_dir, kb_dir=settings.kb_dir)
    example = folders[kommun] / "registry.yaml" if kommun is not None else None
    return Scope(kommun, default, example if example is not None and example.exists() else None)


async def _with_service(work: Any, where: Scope) -> Any:
    db = _database()
    try:
        await db.migrate()
        base = RegistryService(db)
        await base.for_kommun(where.default).adopt_unscoped()
        return await work(base.for_kommun(where.kommun), where)
    finally:
        await db.dispose()


def _run(work: Any, err: TextIO, args: argparse.Namespace) -> Any:
    try:
        where = scope(args)
    except KommunError as exc:
        print(texts().text("kommuner.broken", problems=exc), file=err)
        raise _Misuse from None
    try:
        return asyncio.run(_with_service(work, where))
    except DatabaseUrlError as exc:
        print(texts().text("registry.db_error", problem=exc), file=err)
        return None
    except (OSError, SQLAlchemyError) as exc:
        print(texts().text("registry.db_error", problem=exc), file=err)
        return None


# ---- import ---------------------------------------------------------------------------------


def format_report(report: ImportReport) -> str:
    if not report.ok:
        lines = [texts().text("registry.failed", count=len(report.errors), source=report.source)]
        lines += [f"  {e}" for e in report.errors]
        return "\n".join(lines)
    head = "registry.imported" if report.changed else "registry.imported_nochange"
    lines = [texts().text(head, source=report.source)]
    for table in TABLES:
        c = report.counts[table]
        lines.append(texts().text(
            "registry.row",
            label=texts().text(f"registry.label_{table}"), created=c.created, updated=c.updated,
            unchanged=c.unchanged,
            removed=texts().text("registry.removed", removed=c.removed) if c.removed else "",
        ))
    return "\n".join(lines)


def import_(args: argparse.Namespace) -> int:
    out, err = _utf8(sys.stdout), _utf8(sys.stderr)

    async def work(service: RegistryService, _: Scope) -> ImportReport:
        return await service.import_path(
            Path(args.file),
            getattr(args, "format", None),
            replace=bool(getattr(args, "replace", False)),
        )

    try:
        report = _run(work, err, args)
    except _Misuse:
        return 2
    if report is None:
        return 1
    if not report.ok:
        print(format_report(report), file=err)
        return 1
    print(format_report(report), file=out)
    return 0


# ---- export ---------------------------------------------------------------------------------


def export(args: argparse.Namespace) -> int:
    out, err = _utf8(sys.stdout), _utf8(sys.stderr)
    fmt = getattr(args, "format", None) or "yaml"
    target = getattr(args, "out", None)
    to_dir = target is not None and (target.endswith(("/", "\\")) or Path(target).is_dir())

    async def work(service: RegistryService, _: Scope) -> Any:
        if fmt == "csv" and to_dir:
            return await service.export_tables()
        return await service.export(fmt)

    try:
        result = _run(work, err, args)
    except _Misuse:
        return 2
    if result is None:
        return 1
    try:
        if isinstance(result, dict):
            assert target is not None
            directory = Path(target)
            directory.mkdir(parents=True, exist_ok=True)
            for name, text in result.items():
                (directory / name).write_text(text, encoding="utf-8")
            print(texts().text("registry.exported", path=directory), file=err)
        elif target is None:
            out.write(result)
            out.flush()
        else:
            path = Path(target) / f"registry.{fmt}" if to_dir else Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(result, encoding="utf-8")
            print(texts().text("registry.exported", path=path), file=err)
    except OSError as exc:
        problem = exc.strerror or exc
        print(texts().text("registry.out_error", path=target, problem=problem), file=err)
        return 1
    return 0


# ---- route ----------------------------------------------------------------------------------


def parse_at(text: str | None, clock: Clock) -> datetime:
    """ISO 8601; without an offset the time is Stockholm local time. ValueError when bad."""
    if text is None or not text.strip():
        return clock.now()
    value = text.strip()
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    return parsed


def _contact_lines(c: Contact) -> list[str]:
    head = f"{c.name}"
    role = c.title or texts().text(f"registry.kind_{c.kind}")
    lines = [f"• {head} – {role}"]
    if c.phone:
        lines.append(f"    {texts().text('registry.phone')}: {c.phone}")
    if c.email:
        lines.append(f"    {texts().text('registry.email')}: {c.email}")
    if c.url:
        lines.append(f"    {texts().text('registry.url')}: {c.url}")
    if c.teams_upn:
        lines.append(f"    {texts().text('registry.teams')}: {c.teams_upn}")
    if c.office_hours is not None:
        lines.append(f"    {texts().text('registry.hours')}: {c.office_hours.describe()}")
    return lines


def format_route(result: RouteResult) -> str:
    """The readable Swedish answer of `samverkan route` without --json."""
    if not result.ok:
        assert result.problem is not None
        return result.problem.message
    assert result.primary is not None
    lines = [texts().text(f"registry.head.{result.purpose}", district=result.district_name)]
    lines += _contact_lines(result.primary)
    if result.also:
        lines.append(texts().text("registry.also"))
        for c in result.also:
            lines += _contact_lines(c)
    if result.notes:
        lines.append(texts().text("registry.notes"))
        lines += [f"- {n}" for n in result.notes]
    return "\n".join(lines)


def route(args: argparse.Namespace, *, clock: Clock | None = None) -> int:
    out, err = _utf8(sys.stdout), _utf8(sys.stderr)
    as_json = bool(getattr(args, "json", False))
    purpose = args.purpose
    try:
        at = parse_at(getattr(args, "at", None), clock or SystemClock())
    except ValueError:
        message = texts().text("registry.bad_at", value=args.at)
        if as_json:
            print(json.dumps({"purpose": purpose, "error": {
                "code": "bad_at", "field": "at", "message": message,
            }}, ensure_ascii=False), file=out)
        print(message, file=err)
        return 1

    async def work(service: RegistryService, where: Scope) -> RouteResult:
        await service.ensure_default(where.example)
        return await service.route(
            purpose=purpose, at=at, school=getattr(args, "school", None),
            home_district=getattr(args, "home_district", None),
        )

    try:
        result = _run(work, err, args)
    except _Misuse:
        return 2
    if result is None:
        return 1
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False), file=out)
        if not result.ok:
            assert result.problem is not None
            print(result.problem.message, file=err)
    elif result.ok:
        print(format_route(result), file=out)
    else:
        print(format_route(result), file=err)
    return 0 if result.ok else 1
