"""Everything the bot needs, built once per process by one factory and passed in (no
module-level objects): a frozen, typed container. A part that cannot be built (a broken
knowledge base, rules or flows, an unreachable database) stops the start with its error."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from common.catalogue import Catalogue
from common.clock import Clock, ShiftedClock, SystemClock
from contacts import texts as contact_texts
from contacts.registry import RegistryService
from dialogs import MESSAGES
from dialogs import texts as dialog_texts
from dialogs.flow_cards import contact_card_builder
from dialogs.forum_replies import forum_card_builder
from dialogs.masking import Masker
from dialogs.router import Router as DialogRouter
from forums import texts as forum_texts
from forums.repository import ForumService
from knowledge.loader import KnowledgeBase, load
from knowledge.rules import load_rules
from knowledge.search import SearchIndex
from knowledge.situations import SituationDetector
from samverkan.settings import Settings
from samverkan.turns import Router, StateStorage, TurnProcessor
from storage.conversations import ConversationStore
from storage.db import Database
from storage.feedback import FeedbackStore
from storage.state_store import SqlStateStore
from storage.suggestions import SuggestionStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Core:
    """Settings, time, the database and the repositories on it, the knowledge base and the
    catalogue: what every router, command and background task may use."""

    settings: Settings
    clock: Clock
    db: Database
    store: SqlStateStore
    conversations: ConversationStore
    kb: KnowledgeBase
    messages: Catalogue
    registry: RegistryService
    forums: ForumService
    feedback: FeedbackStore
    suggestions: SuggestionStore


@dataclass(frozen=True)
class Services(Core):
    router: Router

    def turns(self, storage: StateStorage | None = None) -> TurnProcessor:
        return TurnProcessor(
            storage if storage is not None else self.store,
            self.router,
            self.clock,
            dialog_ttl=timedelta(hours=self.settings.dialog_ttl_hours),
        )

    async def close(self) -> None:
        await self.db.dispose()


RouterFactory = Callable[[Core], Router]


async def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    router_factory: RouterFactory | None = None,
    migrate: bool = True,
) -> Services:
    """The one factory. `router_factory` (tests) replaces the dialogs router."""
    if clock is None:
        start = settings.clock_start
        clock = ShiftedClock(start) if start is not None else SystemClock()
    db = Database(settings.database_url)
    try:
        if migrate:
            await db.migrate()
        kb = load(settings.kb_dir)
        messages = dialog_texts()
        core = Core(
            settings=settings,
            clock=clock,
            db=db,
            store=SqlStateStore(db, clock),
            conversations=ConversationStore(db, clock),
            kb=kb,
            messages=messages,
            registry=await _registry_with_default(db, clock),
            forums=ForumService(db, clock),
            feedback=FeedbackStore(db),
            # Masked before it is stored; the masker's word lists are read on the first press.
            suggestions=SuggestionStore(
                db, clock, mask=Masker.for_knowledge_base(kb.directory, messages, MESSAGES).mask
            ),
        )
        router = (router_factory or dialog_router)(core)
    except BaseException:
        await db.dispose()
        raise
    fields = {f.name: getattr(core, f.name) for f in dataclasses.fields(Core)}
    return Services(**fields, router=router)


def dialog_router(core: Core) -> DialogRouter:
    """The conversation router with search, rules, situations and the feature cards."""
    kb_dir = core.settings.kb_dir
    return DialogRouter(
        kb=core.kb,
        index=SearchIndex.load_or_build(core.kb, core.settings.cache_dir),
        rules=load_rules(kb_dir),
        messages=core.messages,
        clock=core.clock,
        registry=core.registry,
        forums=core.forums,
        feedback=core.feedback,
        conversations=core.conversations,
        contact_card=contact_card_builder(contact_texts()),
        forum_cards=forum_card_builder(forum_texts()),
        situations=SituationDetector.build(kb_dir),
        dialog_ttl=timedelta(hours=core.settings.dialog_ttl_hours),
        suggestions=core.suggestions,
    )


async def _registry_with_default(db: Database, clock: Clock) -> RegistryService:
    """The contact registry; on first start it is filled with the bundled example data."""
    from sqlalchemy.exc import IntegrityError

    registry = RegistryService(db, clock=clock)
    try:
        if await registry.ensure_default():
            log.info("contact registry was empty: loaded the bundled example registry")
    except IntegrityError:
        # Another instance loaded it at the same moment.
        if await registry.is_empty():
            raise
    return registry
