"""The aiohttp application factory: no module-level objects; everything is built at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt
import requests
from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, BotFrameworkAuthentication
from msrest.exceptions import DeserializationError

from bot import texts
from bot.activities import ActivityError, parse_body, validate_body
from bot.auth import build_authentication
from bot.connector import CachingBotFrameworkAuthentication
from bot.handler import SamverkanBot
from bot.links import load_link_secret, signature_ok
from bot.replies import RAW_ACTIVITY, ReplySender
from bot.storage import SqlAlchemyStorage
from common.clock import Clock
from samverkan.services import Knowledge, RouterFactory, Services, build_services
from samverkan.settings import Settings
from samverkan.turns import TurnProcessor
from storage.db import describe_url

if TYPE_CHECKING:
    from forums.model import Forum, Occurrence

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    services: Services
    adapter: CloudAdapter
    bot: SamverkanBot
    tasks: list[asyncio.Task[Any]]
    link_secret: bytes  # signs calendar links (bot.links)


SETTINGS = web.AppKey("settings", Settings)
RUNTIME = web.AppKey("runtime", Runtime)
OPTIONS = web.AppKey("options", dict)


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _is_json(request: web.Request) -> bool:
    """The media type exactly (case-insensitive, parameters allowed); JSON is UTF-8."""
    if request.content_type != "application/json":
        return False
    charset = request.charset
    return charset is None or charset.lower() in ("utf-8", "utf8")


def _has_expiry(auth_header: str) -> bool:
    """A bearer JWT that states when it expires. The SDK checks `exp` only when a token has one;
    a token without it would be valid forever, so it is refused here."""
    scheme, _, token = auth_header.partition(" ")
    if scheme != "Bearer" or not token:
        return False
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    exp = claims.get("exp")
    return isinstance(exp, int | float) and not isinstance(exp, bool)


async def _authenticate(
    auth: BotFrameworkAuthentication, activity: Activity, auth_header: str
) -> AuthenticateRequestResult | web.Response:
    try:
        return await auth.authenticate_request(activity, auth_header)
    except PermissionError:
        return _problem(401, texts().text("http.unauthorized"))
    except (requests.RequestException, OSError) as exc:
        log.error("could not fetch Bot Framework signing keys: %s", type(exc).__name__)
        return _problem(503, texts().text("http.auth_unavailable"))
    except Exception:
        # PermissionError, but also malformed tokens and unknown key ids, which the SDK reports
        # as decode/index errors: all of them mean the request is not authenticated.
        return _problem(401, texts().text("http.unauthorized"))


async def messages(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    runtime = request.app[RUNTIME]
    auth = runtime.adapter.bot_framework_authentication
    if request.content_length is not None and request.content_length > settings.max_body_bytes:
        return _problem(413, texts().text("http.too_large"))
    if not _is_json(request):
        return _problem(415, texts().text("http.not_json"))
    auth_header = request.headers.get("Authorization", "")
    if settings.auth_enabled:
        # The token first, on the headers alone: an unauthenticated request costs no body
        # reading or parsing. An empty activity leaves out only the checks that need the body
        # (the channel's endorsement and the serviceurl claim); they follow below.
        if not _has_expiry(auth_header):
            return _problem(401, texts().text("http.unauthorized"))
        early = await _authenticate(auth, Activity(), auth_header)
        if isinstance(early, web.Response):
            return early
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _problem(413, texts().text("http.too_large"))
    try:
        body = parse_body(raw)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, absurd nesting
        return _problem(400, texts().text("http.bad_json"))
    try:
        validate_body(
            body, require_https=settings.auth_enabled, loopback_http=settings.insecure_local
        )
        activity = Activity().deserialize(body)
    except ActivityError as exc:
        return _problem(400, str(exc))
    except (DeserializationError, ValueError, TypeError, AttributeError, KeyError, RecursionError):
        return _problem(400, texts().text("http.bad_activity"))
    result = await _authenticate(auth, activity, auth_header)
    if isinstance(result, web.Response):
        return result
    RAW_ACTIVITY.set(body)
    try:
        invoke = await runtime.adapter.process_activity(result, activity, runtime.bot.on_turn)
    except Exception as exc:  # outside the turn (connector creation…)
        log.error("request failed before or after the turn: %s", type(exc).__name__, exc_info=False)
        return _problem(503, texts().text("http.failed"))
    if invoke is not None:
        return web.json_response(invoke.body, status=invoke.status)
    return web.Response(status=200)


async def healthz(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    runtime = request.app[RUNTIME]
    services = runtime.services
    # Not only "does it answer": it must take a write (a read-only or deleted file does not).
    db_ok = await services.db.healthy(services.store.probe_write)
    kb = services.kb
    body = {
        "status": "ok" if db_ok else "degraded",
        "auth": settings.auth_mode,
        # No URL, path or host: /healthz is public (behind a reverse proxy every request looks
        # local, so "only from loopback" would not hold). The start-up log names the database.
        "database": {"backend": services.db.dialect, "ok": db_ok},
        "knowledge_base": {
            "version": kb.meta.version,
            "legal_checked": kb.meta.legal_checked.isoformat(),
            "topics": len({t.id for t in kb.topics}),
        },
        "kommun": _kommun_json(services),
    }
    return web.json_response(body, status=200 if db_ok else 503)


def _kommun_json(services: Services) -> dict[str, object] | None:
    """The default kommun profile (named, and whether it is an example) and how many Teams
    tenants have a kommun of their own. Tenant ids are not shown."""
    kommuner = services.kommuner
    default = kommuner.for_tenant(None)
    if default is None:
        return None
    return {
        "id": default.id,
        "name": default.name,
        "example": default.example,
        "tenants": len(kommuner.tenants),
        "profiles": sorted(kommuner.in_use),
    }


async def _purge_loop(
    services: Services,
    turns: TurnProcessor,
    interval: float,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Every `interval` seconds: delete the dialogs an error left behind, then the expired state
    documents, then the knowledge-base suggestions older than 90 days. A pass that fails is
    logged and the loop goes on (`sleep` is injected for tests)."""
    while True:
        try:
            # Dialogs an error should have deleted while the database was failing go first.
            waiting = await turns.retry_deletions()
            if waiting:
                log.warning("%d dialogs still wait to be deleted after an error", waiting)
            removed = await services.store.purge_expired()
            if removed:
                log.info("purged %d expired dialog state documents", removed)
        except Exception as exc:
            log.warning("purging expired state failed: %s", type(exc).__name__)
        try:
            # Questions suggested for the knowledge base are kept at most 90 days.
            dropped = await services.suggestions.purge_expired()
            if dropped:
                log.info("deleted %d knowledge-base suggestions older than 90 days", dropped)
        except Exception as exc:
            log.warning("purging old knowledge-base suggestions failed: %s", type(exc).__name__)
        await sleep(interval)


def reminder_renderer(
    public_url: str, link_secret: bytes
) -> Callable[[Forum, Occurrence, str, str], tuple[dict[str, Any], str]]:
    """The reminder card with a signed calendar link (forums.reminders' `render`)."""
    from forums.card import reminder_message  # dialogs owns the card's wording

    def render(
        forum: Forum, occurrence: Occurrence, offset: str, scope: str
    ) -> tuple[dict[str, Any], str]:
        return reminder_message(
            forum, occurrence, scope=scope, public_url=public_url, link_secret=link_secret
        )

    return render


def _reminder_scheduler(services: Services, adapter: CloudAdapter, link_secret: bytes) -> Any:
    from bot.proactive import BotConnectorTransport
    from forums.reminders import ReminderScheduler
    from outbound.sender import RateLimit, Sender

    settings = services.settings
    transport = BotConnectorTransport(adapter, settings.microsoft_app_id)
    sender = Sender(
        transport,
        services.clock,
        asyncio.sleep,
        global_limits=(RateLimit(settings.send_rate_per_second, 1.0),),
    )
    return ReminderScheduler(
        services.db,
        services.forums,
        transport,
        services.clock,
        asyncio.sleep,
        sender=sender,
        render=reminder_renderer(settings.public_url.rstrip("/"), link_secret),
        forget_conversation=services.conversations.forget_id,
    )


async def forum_ics(request: web.Request) -> web.Response:
    from forums.repository import UnknownForumError

    runtime = request.app[RUNTIME]
    forum_id = request.match_info["forum_id"]
    not_found = _problem(404, texts().text("http.no_calendar"))
    # A signed link only (the calendar carries the meeting's join link): a wrong or missing
    # signature answers exactly like an unknown forum, so forum ids cannot be probed.
    if not signature_ok(runtime.link_secret, forum_id, request.query.get("sig", "")):
        return not_found
    forums = runtime.services.forums
    try:
        body = await forums.forum_ics(forum_id)
    except UnknownForumError:
        return not_found
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{forum_id}.ics"',
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    opts = app[OPTIONS]
    services = opts.get("services") or await build_services(
        settings,
        clock=opts.get("clock"),
        router_factory=opts.get("router_factory"),
        knowledge=opts.get("knowledge"),
    )
    try:
        link_secret = await load_link_secret(settings, services.store)
    except BaseException:
        if opts.get("services") is None:
            await services.close()
        raise
    auth = CachingBotFrameworkAuthentication(build_authentication(settings))
    adapter = CloudAdapter(auth)
    turns = services.turns(SqlAlchemyStorage(services.store))
    messages = services.messages
    bot = SamverkanBot(services, turns, messages, ReplySender(auth.cache))
    adapter.on_turn_error = bot.on_error
    tasks: list[asyncio.Task[Any]] = []
    if opts.get("background", True):
        tasks.append(
            asyncio.create_task(_purge_loop(services, turns, 300.0), name="purge-expired-state")
        )
        if settings.scheduler_enabled:
            scheduler = _reminder_scheduler(services, adapter, link_secret)
            tasks.append(
                asyncio.create_task(
                    scheduler.run(interval=settings.scheduler_interval_seconds),
                    name="reminder-scheduler",
                )
            )
    app[RUNTIME] = Runtime(
        services=services, adapter=adapter, bot=bot, tasks=tasks, link_secret=link_secret
    )
    log.info(
        "Samverkansboten ready: auth=%s database=%s kb=%s",
        settings.auth_mode,
        describe_url(services.db.url),
        services.kb.meta.version,
    )
    if settings.clock_start is not None:
        log.warning("test clock: time started at %s", settings.clock_start.isoformat())
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await auth.cache.close()
        if opts.get("services") is None:
            await services.close()


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    router_factory: RouterFactory | None = None,
    services: Services | None = None,
    background: bool = True,
    knowledge: Knowledge | None = None,
) -> web.Application:
    """Build the web application. Settings are read once, here, if not given. `knowledge`:
    the knowledge base and kommun profiles when they were loaded (and checked) already."""
    settings = settings if settings is not None else Settings()
    settings.check_or_raise()
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[OPTIONS] = {
        "clock": clock,
        "router_factory": router_factory,
        "services": services,
        "background": background,
        "knowledge": knowledge,
    }
    app.cleanup_ctx.append(_lifecycle)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get(r"/forums/{forum_id:[A-Za-z0-9_.-]+}.ics", forum_ics)
    return app
