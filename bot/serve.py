"""`samverkan serve`: run the bot's web server."""

from __future__ import annotations

import argparse
import gc
import sys
from typing import TYPE_CHECKING

from bot import texts
from samverkan.logs import configure as configure_logging
from samverkan.settings import Settings, SettingsError

if TYPE_CHECKING:
    from aiohttp import web

    from samverkan.services import Knowledge


def run(args: argparse.Namespace) -> int:
    # The start makes some 150,000 objects that live as long as the server, and almost no
    # garbage: the cyclic garbage collector would walk them all several times while they are
    # made (a fifth of a start). It is off until the server is ready (`_started`).
    gc.disable()
    try:
        return _run(args)
    finally:
        gc.enable()


def _run(args: argparse.Namespace) -> int:
    try:
        settings = Settings()
        overrides = {}
        if getattr(args, "host", None):
            overrides["host"] = args.host
        if getattr(args, "port", None):
            overrides["port"] = args.port
        if overrides:
            settings = settings.model_copy(update=overrides)
        settings.check_or_raise()
    except SettingsError as exc:
        print(texts().text("serve.cannot_start", problem=exc), file=sys.stderr)
        return 2
    except ValueError as exc:  # pydantic validation of environment values
        print(texts().text("serve.bad_settings", problem=exc), file=sys.stderr)
        return 2
    from storage.db import DatabaseMissingError, check_database_present

    try:
        check_database_present(settings.database_url)
    except DatabaseMissingError as exc:
        print(texts().text("serve.cannot_start", problem=exc), file=sys.stderr)
        return 2
    knowledge, problem = checked_knowledge(settings)
    if knowledge is None:
        print(texts().text("serve.cannot_start", problem=problem), file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    from aiohttp import web

    print(
        texts().text("serve.listening", host=settings.host, port=settings.port), file=sys.stderr
    )
    from knowledge.loader import KnowledgeError

    app = application(settings, knowledge)
    try:
        web.run_app(app, host=settings.host, port=settings.port, print=None)
    except KnowledgeError as exc:  # found while the start-up builds the search index (a label
        # of knowledge/data/questions/ that names no topic): before it listens
        print(texts().text("serve.cannot_start", problem=exc), file=sys.stderr)
        return 2
    return 0


def checked_knowledge(settings: Settings) -> tuple[Knowledge | None, str | None]:
    """The knowledge base and the kommun profiles, checked before the server starts listening:
    a broken profile stops it with every problem named (the second value). The start-up uses
    what was loaded here."""
    from knowledge.kommun_model import KommunError
    from knowledge.loader import KnowledgeError
    from samverkan.services import load_knowledge

    try:
        return load_knowledge(settings), None
    except (KnowledgeError, KommunError) as exc:
        return None, str(exc)


def application(settings: Settings, knowledge: Knowledge) -> web.Application:
    """The server's application; the garbage collector is back on once it has started."""
    from bot.app import create_app

    app = create_app(settings, knowledge=knowledge)
    app.on_startup.append(_started)  # after the start-up of create_app (services built)
    return app


async def _started(_app: web.Application) -> None:
    # What the start made is kept for the life of the server: frozen, the collector does not
    # walk it again at every full collection (a few thousand objects of start-up garbage stay).
    gc.freeze()
    gc.enable()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bot")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    return run(parser.parse_args())
