"""`samverkan serve`: run the bot's web server."""

from __future__ import annotations

import argparse
import sys

from bot import texts
from samverkan.logs import configure as configure_logging
from samverkan.settings import Settings, SettingsError


def run(args: argparse.Namespace) -> int:
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
    problem = _profile_problems(settings)
    if problem is not None:
        print(texts().text("serve.cannot_start", problem=problem), file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    from aiohttp import web

    from bot.app import create_app

    print(
        texts().text("serve.listening", host=settings.host, port=settings.port), file=sys.stderr
    )
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)
    return 0


def _profile_problems(settings: Settings) -> str | None:
    """The knowledge base's and the kommun profiles' problems, checked before the server
    starts listening: a broken profile stops it with every problem named."""
    from knowledge.kommun_model import KommunError
    from knowledge.loader import KnowledgeError, load
    from samverkan.kommun_check import load_checked

    try:
        kb = load(settings.kb_dir)
        load_checked(
            kb,
            extra_dir=settings.kommun_dir,
            default=settings.kommun or None,
            tenants=settings.tenant_kommuner,
        )
    except (KnowledgeError, KommunError) as exc:
        return str(exc)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bot")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    return run(parser.parse_args())
