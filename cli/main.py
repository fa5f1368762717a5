"""The `samverkan` console script: one entry point, one subcommand per contract.

Each subcommand's handler lives in `cli.commands.<module>` and is imported only when that
subcommand runs, so `samverkan ask` does not pay for the web server's imports.
Handlers take the parsed arguments and return the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cli import texts

if TYPE_CHECKING:
    from pydantic import ValidationError


def _handler(parser: argparse.ArgumentParser, target: str) -> None:
    parser.set_defaults(_handler=target)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="samverkan",
        description=texts().text("help.description"),
    )
    sub = p.add_subparsers(dest="command", metavar=texts().text("help.command"))

    serve = sub.add_parser("serve", help=texts().text("help.serve"))
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    _handler(serve, "bot.serve:run")

    chat = sub.add_parser("chat", help=texts().text("help.chat"))
    chat.add_argument("--user", default="terminal-user", help=texts().text("help.chat_user"))
    _handler(chat, "cli.commands.chat:run")

    manifest = sub.add_parser("manifest", help=texts().text("help.manifest"))
    msub = manifest.add_subparsers(dest="manifest_command", metavar=texts().text("help.command"))
    mbuild = msub.add_parser("build", help=texts().text("help.manifest_build"))
    mbuild.add_argument("--out", default="dist", help=texts().text("help.manifest_out"))
    _handler(mbuild, "cli.commands.manifest:build")

    kb = sub.add_parser("kb", help=texts().text("help.kb"))
    kbsub = kb.add_subparsers(dest="kb_command", metavar=texts().text("help.command"))
    kcheck = kbsub.add_parser("check", help=texts().text("help.kb_check"))
    kcheck.add_argument(
        "--dir", default=None, help=texts().text("help.kb_check_dir")
    )
    kcheck.add_argument(
        "--kommun-dir",
        dest="kommun_dir",
        default=None,
        help=texts().text("help.kb_check_kommun_dir"),
    )
    _handler(kcheck, "cli.commands.knowledge:check")

    kfb = kbsub.add_parser("feedback", help=texts().text("help.kb_feedback"))
    kfb.add_argument("--json", action="store_true")
    _handler(kfb, "cli.commands.feedback:show")

    kmiss = kbsub.add_parser("misses", help=texts().text("help.kb_misses"))
    kmiss.add_argument("--json", action="store_true", help=texts().text("help.kb_misses_json"))
    _handler(kmiss, "cli.commands.misses:show")

    ask = sub.add_parser("ask", help=texts().text("help.ask"))
    ask.add_argument("question", nargs="?", help=texts().text("help.ask_question"))
    ask.add_argument("--json", action="store_true", help=texts().text("help.ask_json"))
    ask.add_argument(
        "--batch", metavar=texts().text("help.file"), help=texts().text("help.ask_batch")
    )
    ask.add_argument("--kommun", default=None, help=texts().text("help.ask_kommun"))
    _handler(ask, "cli.commands.knowledge:ask")

    kommuner = sub.add_parser("kommuner", help=texts().text("help.kommuner"))
    ksub = kommuner.add_subparsers(dest="kommuner_command", metavar=texts().text("help.command"))
    klist = ksub.add_parser("list", help=texts().text("help.kommuner_list"))
    klist.add_argument("--json", action="store_true")
    _handler(klist, "cli.commands.kommuner:list_")

    assess = sub.add_parser("assess", help=texts().text("help.assess"))
    assess.add_argument(
        "--batch", metavar=texts().text("help.file"), help=texts().text("help.assess_batch")
    )
    assess.add_argument("--facts", metavar="JSON", help=texts().text("help.assess_facts"))
    assess.add_argument("--date", metavar="YYYY-MM-DD", help=texts().text("help.assess_date"))
    assess.add_argument("--kommun", default=None, help=texts().text("help.assess_kommun"))
    _handler(assess, "cli.commands.assess:run")

    reg = sub.add_parser("registry", help=texts().text("help.registry"))
    rsub = reg.add_subparsers(dest="registry_command", metavar=texts().text("help.command"))
    rimp = rsub.add_parser("import", help=texts().text("help.registry_import"))
    rimp.add_argument("file")
    rimp.add_argument("--format", choices=["yaml", "csv"], default=None)
    rimp.add_argument(
        "--replace",
        action="store_true",
        help=texts().text("help.registry_replace"),
    )
    rimp.add_argument("--kommun", default=None, help=texts().text("help.registry_kommun"))
    _handler(rimp, "cli.commands.registry:import_")
    rexp = rsub.add_parser("export", help=texts().text("help.registry_export"))
    rexp.add_argument("--format", choices=["yaml", "csv"], default="yaml")
    rexp.add_argument("--out", default=None, help=texts().text("help.registry_out"))
    rexp.add_argument("--kommun", default=None, help=texts().text("help.registry_kommun"))
    _handler(rexp, "cli.commands.registry:export")

    route = sub.add_parser("route", help=texts().text("help.route"))
    route.add_argument("--purpose", required=True, choices=["report", "consult", "general"])
    route.add_argument("--school", default=None)
    route.add_argument("--home-district", dest="home_district", default=None)
    route.add_argument("--at", default=None, help=texts().text("help.route_at"))
    route.add_argument("--json", action="store_true")
    route.add_argument("--kommun", default=None, help=texts().text("help.registry_kommun"))
    _handler(route, "cli.commands.registry:route")

    forums = sub.add_parser("forums", help=texts().text("help.forums"))
    fsub = forums.add_subparsers(dest="forums_command", metavar=texts().text("help.command"))
    fimp = fsub.add_parser("import", help=texts().text("help.forums_import"))
    fimp.add_argument("file")
    fimp.add_argument(
        "--replace",
        action="store_true",
        help=texts().text("help.forums_replace"),
    )
    fimp.add_argument("--kommun", default=None, help=texts().text("help.forums_kommun"))
    _handler(fimp, "cli.commands.forums:import_")
    fup = fsub.add_parser("upcoming", help=texts().text("help.forums_upcoming"))
    fup.add_argument("--from", dest="from_", required=True)
    fup.add_argument("--to", required=True)
    fup.add_argument("--json", action="store_true")
    fup.add_argument("--kommun", default=None, help=texts().text("help.forums_upcoming_kommun"))
    _handler(fup, "cli.commands.forums:upcoming")
    fics = fsub.add_parser("ics", help=texts().text("help.forums_ics"))
    fics.add_argument("id")
    _handler(fics, "cli.commands.forums:ics")

    rem = sub.add_parser("reminders", help=texts().text("help.reminders"))
    remsub = rem.add_subparsers(dest="reminders_command", metavar=texts().text("help.command"))
    rdue = remsub.add_parser("due", help=texts().text("help.reminders_due"))
    rdue.add_argument("--from", dest="from_", required=True)
    rdue.add_argument("--to", required=True)
    rdue.add_argument("--json", action="store_true")
    _handler(rdue, "cli.commands.forums:due")
    rstat = remsub.add_parser("status", help=texts().text("help.reminders_status"))
    rstat.add_argument("--json", action="store_true")
    rstat.add_argument("--failed", action="store_true", help=texts().text("help.reminders_failed"))
    _handler(rstat, "cli.commands.forums:status")

    db = sub.add_parser("db", help=texts().text("help.db"))
    dbsub = db.add_subparsers(dest="db_command", metavar=texts().text("help.command"))
    dbup = dbsub.add_parser("upgrade", help=texts().text("help.db_upgrade"))
    _handler(dbup, "cli.commands.db:upgrade")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    target = getattr(args, "_handler", None)
    if target is None:
        # A group without its subcommand (e.g. `samverkan kb`): show that group's help.
        parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "--help"])
        return 2
    module_name, func_name = target.split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Imported here: `samverkan ask` does not pay for the database's imports.
        from pydantic import ValidationError

        from storage.db import DatabaseMissingError

        if isinstance(exc, DatabaseMissingError):  # a used SQLite file is gone: never start afresh
            print(texts().text("main.database_missing", problem=exc), file=sys.stderr)
            return 2
        if isinstance(exc, ValidationError):  # settings from the environment that do not validate
            problems = _settings_problems(exc)
            print(texts().text("main.bad_settings", problem=problems), file=sys.stderr)
            return 2
        raise


def _settings_problems(exc: ValidationError) -> str:
    """One line per setting: its environment name, the value given and what is wrong."""
    lines = []
    for err in exc.errors(include_url=False):
        name = ".".join(str(part) for part in err.get("loc", ())) or "?"
        lines.append(f"  {name}={err.get('input')!r}: {err.get('msg', '')}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
