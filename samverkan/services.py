"""Everything the bot needs, built once per process and passed in (no module-level objects)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from common.clock import Clock, SystemClock
from dialogs.messages import Messages
from knowledge.loader import KnowledgeBase, load
from samverkan.settings import Settings
from samverkan.turns import Router, StateStorage, TurnProcessor
from storage.conversations import ConversationStore
from storage.db import Database
from storage.state_store import SqlStateStore

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    store: SqlStateStore
    conversations: ConversationStore
    kb: KnowledgeBase
    router: Router
    extras: dict[str, Any] = field(default_factory=dict)

    def turns(self, storage: StateStorage | None = None) -> TurnProcessor:
        return TurnProcessor(
            storage if storage is not None else self.store,
            self.router,
            self.clock,
            dialog_ttl=timedelta(hours=self.settings.dialog_ttl_hours),
        )

    async def close(self) -> None:
        await self.db.dispose()


RouterFactory = Callable[["Services"], Router]


async def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    router_factory: RouterFactory | None = None,
    migrate: bool = True,
) -> Services:
    clock = clock or SystemClock()
    db = Database(settings.database_url)
    try:
        if migrate:
            await db.migrate()
        kb = load(settings.kb_dir)
        messages = Messages.load()
        registry = await _registry_with_default(db, clock)
        services = Services(
            settings=settings,
            clock=clock,
            db=db,
            store=SqlStateStore(db, clock),
            conversations=ConversationStore(db, clock),
            kb=kb,
            router=_NoRouter(),
        )
        services.extras["registry"] = registry
        services.extras["messages"] = messages
        services.router = (router_factory or default_router)(services)
    except BaseException:
        await db.dispose()
        raise
    return services


async def _registry_with_default(db: Database, clock: Clock) -> Any:
    """The contact registry; on first start it is filled with the bundled example data."""
    from sqlalchemy.exc import IntegrityError

    from contacts.registry import RegistryService

    registry = RegistryService(db, clock=clock)
    try:
        if await registry.ensure_default():
            log.info("contact registry was empty: loaded the bundled example registry")
    except IntegrityError:
        # Another instance loaded it at the same moment.
        if await registry.is_empty():
            raise
    return registry


class _NoRouter:
    async def welcome(self, inc: Any, state: Any) -> list[Any]:
        raise RuntimeError("router not built yet")

    async def handle(self, inc: Any, state: Any) -> list[Any]:
        raise RuntimeError("router not built yet")


def default_router(services: Services) -> Router:
    from dialogs.router import build_router  # the dialogs package decides its own wiring

    return build_router(services)
