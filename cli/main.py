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


def _handler(parser: argparse.ArgumentParser, target: str) -> None:
    parser.set_defaults(_handler=target)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="samverkan",
        description="Samverkansboten – Teams-assistent för samverkan skola–socialtjänst.",
    )
    sub = p.add_subparsers(dest="command", metavar="KOMMANDO")

    serve = sub.add_parser("serve", help="starta boten (Bot Framework-endpoint och /healthz)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    _handler(serve, "bot.serve:run")

    chat = sub.add_parser("chat", help="prata med boten i terminalen")
    chat.add_argument("--user", default="terminal-user", help="användar-id i chatten")
    _handler(chat, "cli.commands.chat:run")

    manifest = sub.add_parser("manifest", help="Teams-apppaketet")
    msub = manifest.add_subparsers(dest="manifest_command", metavar="KOMMANDO")
    mbuild = msub.add_parser("build", help="bygg dist/<namn>.zip")
    mbuild.add_argument("--out", default="dist", help="katalog för zip-filen")
    _handler(mbuild, "cli.commands.manifest:build")

    kb = sub.add_parser("kb", help="kunskapsbasen")
    kbsub = kb.add_subparsers(dest="kb_command", metavar="KOMMANDO")
    kcheck = kbsub.add_parser("check", help="validera kunskapsbasen, reglerna och flödena")
    kcheck.add_argument(
        "--dir", default=None, help="kunskapsbas att kontrollera (standard: den inbyggda)"
    )
    _handler(kcheck, "cli.commands.knowledge:check")

    kfb = kbsub.add_parser("feedback", help="👍/👎 per ämne, flest 👎 först (svaga svar)")
    kfb.add_argument("--json", action="store_true")
    _handler(kfb, "cli.commands.feedback:show")

    ask = sub.add_parser("ask", help="ställ en fråga till kunskapsbasen")
    ask.add_argument("question", nargs="?", help="frågan")
    ask.add_argument("--json", action="store_true", help="svara med JSON")
    ask.add_argument("--batch", metavar="FIL", help="en fråga per rad; en JSON-rad per fråga")
    _handler(ask, "cli.commands.knowledge:ask")

    assess = sub.add_parser("assess", help="bedöm en oro utifrån fakta (JSON)")
    assess.add_argument("--batch", metavar="FIL", help="ett JSON-objekt med fakta per rad")
    assess.add_argument("--facts", metavar="JSON", help="ett JSON-objekt med fakta")
    assess.add_argument("--date", metavar="YYYY-MM-DD", help="bedöm enligt regler som gällde då")
    _handler(assess, "cli.commands.assess:run")

    reg = sub.add_parser("registry", help="kontaktregistret")
    rsub = reg.add_subparsers(dest="registry_command", metavar="KOMMANDO")
    rimp = rsub.add_parser("import", help="importera YAML eller CSV (allt eller inget)")
    rimp.add_argument("file")
    rimp.add_argument("--format", choices=["yaml", "csv"], default=None)
    rimp.add_argument(
        "--replace",
        action="store_true",
        help="filen är hela registret för sina tabeller: poster som saknas i filen tas bort",
    )
    _handler(rimp, "cli.commands.registry:import_")
    rexp = rsub.add_parser("export", help="exportera registret")
    rexp.add_argument("--format", choices=["yaml", "csv"], default="yaml")
    rexp.add_argument("--out", default=None, help="fil eller katalog (standard: stdout för YAML)")
    _handler(rexp, "cli.commands.registry:export")

    route = sub.add_parser("route", help="vem ska kontaktas?")
    route.add_argument("--purpose", required=True, choices=["report", "consult", "general"])
    route.add_argument("--school", default=None)
    route.add_argument("--home-district", dest="home_district", default=None)
    route.add_argument("--at", default=None, help="tidpunkt (ISO 8601), standard: nu")
    route.add_argument("--json", action="store_true")
    _handler(route, "cli.commands.registry:route")

    forums = sub.add_parser("forums", help="samverkansforum")
    fsub = forums.add_subparsers(dest="forums_command", metavar="KOMMANDO")
    fimp = fsub.add_parser("import", help="importera forum (allt eller inget)")
    fimp.add_argument("file")
    fimp.add_argument(
        "--replace",
        action="store_true",
        help="filen är hela schemat: forum som saknas i filen tas bort med sina påminnelser",
    )
    _handler(fimp, "cli.commands.forums:import_")
    fup = fsub.add_parser("upcoming", help="kommande möten")
    fup.add_argument("--from", dest="from_", required=True)
    fup.add_argument("--to", required=True)
    fup.add_argument("--json", action="store_true")
    _handler(fup, "cli.commands.forums:upcoming")
    fics = fsub.add_parser("ics", help="iCalendar-fil för ett forum")
    fics.add_argument("id")
    _handler(fics, "cli.commands.forums:ics")

    rem = sub.add_parser("reminders", help="påminnelser")
    remsub = rem.add_subparsers(dest="reminders_command", metavar="KOMMANDO")
    rdue = remsub.add_parser("due", help="påminnelser som ska skickas i ett intervall")
    rdue.add_argument("--from", dest="from_", required=True)
    rdue.add_argument("--to", required=True)
    rdue.add_argument("--json", action="store_true")
    _handler(rdue, "cli.commands.forums:due")
    rstat = remsub.add_parser("status", help="leveranser och fel")
    rstat.add_argument("--json", action="store_true")
    rstat.add_argument("--failed", action="store_true", help="bara misslyckade")
    _handler(rstat, "cli.commands.forums:status")

    db = sub.add_parser("db", help="databasen")
    dbsub = db.add_subparsers(dest="db_command", metavar="KOMMANDO")
    dbup = dbsub.add_parser("upgrade", help="kör databasmigreringar")
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


if __name__ == "__main__":
    sys.exit(main())
