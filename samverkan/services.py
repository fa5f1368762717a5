"""Everything the bot needs, built once per process by one factory and passed in (no
module-level objects): a frozen, typed container. A part that cannot be built (a broken
knowledge base, rules or flows, an unreachable database) stops the start with its error."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

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
from knowledge.kommun import Kommuner, with_profile
from knowledge.loader import KnowledgeBase, load
from knowledge.rules import RuleSet, load_rules
from knowledge.search import SearchIndex
from knowledge.situations import SituationDetector
from samverkan.kommun_check import load_checked
from samverkan.kommun_router import KommunRouter
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
    kb: KnowledgeBase  # the national layer
    kommuner: Kommuner  # the kommun profiles, the default one and the tenant map
    messages: Catalogue
    registry: RegistryService  # the default kommun's (`registries` has each kommun's in use)
    forums: ForumService  # every kommun's: the reminder loop and .ics links
    registries: dict[str, RegistryService]  # kommun id ("" without profiles) → its registry
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
# The national knowledge base and the checked kommun profiles, when they were loaded before
# (`samverkan serve` checks them before it listens, and they are not loaded twice).
Knowledge = tuple[KnowledgeBase, Kommuner]


async def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    router_factory: RouterFactory | None = None,
    migrate: bool = True,
    knowledge: Knowledge | None = None,
) -> Services:
    """The one factory. `router_factory` (tests) replaces the dialogs router."""
    if clock is None:
        start = settings.clock_start
        clock = ShiftedClock(start) if start is not None else SystemClock()
    db = Database(settings.database_url)
    try:
        if migrate:
            await db.migrate()
        kb, kommuner = knowledge if knowledge is not None else load_knowledge(settings)
        messages = dialog_texts()
        registries = await _registries(db, clock, kommuner)
        forums = ForumService(db, clock)
        await forums.for_kommun(kommuner.default).adopt_unscoped()
        core = Core(
            settings=settings,
            clock=clock,
            db=db,
            store=SqlStateStore(db, clock),
            conversations=ConversationStore(db, clock),
            kb=kb,
            kommuner=kommuner,
            messages=messages,
            registry=registries[kommuner.default or ""],
            forums=forums,
            registries=registries,
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


def load_knowledge(settings: Settings) -> Knowledge:
    """The national knowledge base and the kommun profiles the settings choose; KnowledgeError
    or KommunError names every problem."""
    kb = load(settings.kb_dir)
    kommuner = load_checked(
        kb,
        extra_dir=settings.kommun_dir,
        default=settings.kommun or None,
        tenants=settings.tenant_kommuner,
    )
    return kb, kommuner


def dialog_router(core: Core) -> Router:
    """The conversation router of each kommun in use (the default and those of the tenant
    map); with more than one, a KommunRouter picks by the turn's Teams tenant."""
    in_use = core.kommuner.in_use
    # One detector for all: it reads only the national layer's situation files.
    situations = SituationDetector.load_or_build(core.settings.kb_dir, core.settings.cache_dir)
    # One search model for all: a kommun's words only change how questions are read.
    national = SearchIndex.load_or_build(core.kb, core.settings.cache_dir)
    rules = load_rules(core.settings.kb_dir)  # each kommun takes its part (for_kommun)
    if not in_use:
        return kommun_dialog_router(core, None, situations, national, rules)
    routers = {
        kommun_id: kommun_dialog_router(core, kommun_id, situations, national, rules)
        for kommun_id in in_use
    }
    if len(routers) == 1:
        return next(iter(routers.values()))
    return KommunRouter(routers, core.kommuner)


def kommun_dialog_router(
    core: Core,
    kommun_id: str | None,
    situations: SituationDetector,
    national: SearchIndex,
    rules: RuleSet,
) -> DialogRouter:
    """The conversation router with search, rules, situations and the feature cards, on the
    knowledge base as one kommun sees it (its routines and its words); None: national only."""
    kb = core.kb
    index = national
    if kommun_id is not None:
        kb = with_profile(core.kb, core.kommuner.profiles[kommun_id])
        index = SearchIndex.for_kommun(index, kb)  # its words, the national model
    return DialogRouter(
        kb=kb,
        index=index,
        rules=rules.for_kommun(kommun_id),  # cites no other kommun's documents
        messages=core.messages,
        clock=core.clock,
        registry=core.registries[kommun_id or ""],  # its own contacts and forums only
        forums=core.forums.for_kommun(kommun_id),
        feedback=core.feedback,
        conversations=core.conversations,
        contact_card=contact_card_builder(contact_texts()),
        forum_cards=forum_card_builder(forum_texts()),
        situations=situations,
        dialog_ttl=timedelta(hours=core.settings.dialog_ttl_hours),
        suggestions=core.suggestions,
    )


async def _registries(
    db: Database, clock: Clock, kommuner: Kommuner
) -> dict[str, RegistryService]:
    """Each kommun's contact registry (the default's and those of the tenant map; "" without
    profiles). Records from before kommun registries are the default kommun's; a kommun whose
    registry is empty gets its profile's example registry.yaml on first start."""
    base = RegistryService(db, clock=clock)
    await base.for_kommun(kommuner.default).adopt_unscoped()
    out: dict[str, RegistryService] = {}
    in_use: list[str | None] = list(dict.fromkeys([kommuner.default, *kommuner.in_use]))
    for kommun_id in in_use:
        profile = kommuner.profiles.get(kommun_id) if kommun_id else None
        registry = base.for_kommun(kommun_id)
        await _with_example(registry, profile.registry_file if profile else None)
        out[kommun_id or ""] = registry
    return out


async def _with_example(registry: RegistryService, path: Path | None) -> None:
    from sqlalchemy.exc import IntegrityError

    try:
        if await registry.ensure_default(path):
            log.info("contact registry of %r was empty: loaded its example", registry.kommun)
    except IntegrityError:
        # Another instance loaded it at the same moment.
        if await registry.is_empty():
            raise
