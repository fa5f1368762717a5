"""The local layer of an answer: "I <kommun>:" and the kommun's routine for the topic, or the
line that sends the user to their rektor or elevhälsan when the profile has none – never
another kommun's routine. The knowledge base carries its kommun (knowledge.kommun.with_profile);
without one nothing is added.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from common.catalogue import Catalogue
from dialogs import cards as c
from knowledge.kommun import local_documents, national_sources, shows_seed, without_seeds
from knowledge.loader import KnowledgeBase
from knowledge.model import GuidanceSource, SeedSource, Topic


class LocalBlocks(NamedTuple):
    """The local layer of an answer card: what is shown with the short answer, and what waits
    behind "Visa mer" (what changed since the routine was written, its document)."""

    shown: list[dict[str, Any]]
    more: list[dict[str, Any]]


def blocks(kb: KnowledgeBase, topic: Topic, day: date, msg: Catalogue) -> LocalBlocks:
    """Card elements for the kommun's routines on `topic` (empty without a kommun)."""
    profile = kb.kommun
    if profile is None:
        return LocalBlocks([], [])
    head = msg.text("local.in_kommun", kommun=profile.info.short_name)
    routines = profile.routines_for(topic.id, day)
    if not routines:
        return LocalBlocks(
            [c.text(head, weight="Bolder", separator=True), c.text(msg.text("local.ask_rektor"))],
            [],
        )
    shown: list[dict[str, Any]] = [c.text(head, weight="Bolder", separator=True)]
    more: list[dict[str, Any]] = []
    for routine in routines:
        unit = profile.unit_name(routine.unit)
        text = msg.text("local.unit", unit=unit, text=routine.text) if unit else routine.text
        shown.append(c.text(text))
        forums = [f.name for f_id in routine.forums if (f := profile.forum(f_id)) is not None]
        if forums:
            line = msg.text("local.forums", forums="; ".join(forums))
            shown.append(c.text(line, spacing="Small"))
        if routine.changed:
            line = msg.text("local.changed", text=routine.changed)
            more.append(c.text(f"{unit}: {line}" if unit else line, subtle=True, spacing="Small"))
        doc = profile.document(routine.source.document)
        if doc is not None:
            title = f"[{doc.title}]({doc.url})" if doc.url else doc.title
            line = msg.text("local.source", document=title, year=doc.year)
            more.append(c.text(line, size="Small", subtle=True, spacing="Small"))
    if profile.example:  # the welcome card says so too; here it waits behind "Visa mer"
        more.append(c.text(msg.text("local.example"), size="Small", subtle=True, spacing="Small"))
    if more:
        more.insert(0, c.text(head, weight="Bolder", separator=True))
    return LocalBlocks(shown, more)


def visible(kb: KnowledgeBase, sources: Sequence[Any]) -> list[Any]:
    """Sources without other kommuners' documents (a flow's or a topic's; without a kommun,
    without any kommun's); the kommun's own seed documents are named in words."""
    out: list[Any] = []
    for src in national_sources(kb, sources):
        seed = kb.seeds.get(src.seed) if isinstance(src, SeedSource) else None
        if seed is not None:
            src = GuidanceSource(guidance=seed.name, url=seed.url)
        out.append(src)
    return out


def visible_refs(kb: KnowledgeBase, refs: Sequence[str]) -> list[str]:
    """The rule engine's sources ('003' for a seed) without other kommuners' documents (a
    second guard: the kommun's RuleSet.for_kommun leaves them out already)."""
    return [r for r in refs if shows_seed(kb, r)]


def sources(kb: KnowledgeBase, topic: Topic, day: date) -> Sequence[Any]:
    """The answer's sources: the national ones (without other kommuners' documents) and the
    kommun's documents, named in words, with a link when one is known."""
    docs = local_documents(kb, topic.id, day)
    local = [GuidanceSource(guidance=f"{d.title} ({d.year})", url=d.url) for d in docs]
    return [*without_seeds(national_sources(kb, topic.sources), docs), *local]
