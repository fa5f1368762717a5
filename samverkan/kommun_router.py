"""One server, several kommuner: the router of the kommun a Teams tenant belongs to
(SAMVERKAN_TENANT_KOMMUNER), else the default kommun's (SAMVERKAN_KOMMUN)."""

from __future__ import annotations

from collections.abc import Mapping

from dialogs.types import Incoming, Reply, TurnState
from knowledge.kommun import Kommuner
from samverkan.turns import Router


class KommunRouter:
    def __init__(self, routers: Mapping[str, Router], kommuner: Kommuner) -> None:
        self.routers = dict(routers)
        self.kommuner = kommuner

    def for_turn(self, inc: Incoming) -> Router:
        profile = self.kommuner.for_tenant(inc.tenant_id)
        if profile is None:  # not reached: a KommunRouter is built only with a default
            return next(iter(self.routers.values()))
        return self.routers[profile.id]

    async def welcome(self, inc: Incoming, state: TurnState) -> list[Reply]:
        return await self.for_turn(inc).welcome(inc, state)

    async def handle(self, inc: Incoming, state: TurnState) -> list[Reply]:
        return await self.for_turn(inc).handle(inc, state)
