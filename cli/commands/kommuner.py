"""`samverkan kommuner list` and the kommun of `samverkan ask` (--kommun, SAMVERKAN_KOMMUN)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from cli import texts
from knowledge.kommun import Kommuner, load_kommuner, with_profile
from knowledge.kommun_model import KommunError
from knowledge.loader import KnowledgeBase, KnowledgeError, load


def _settings_dirs(args: argparse.Namespace) -> tuple[Path | None, Path | None, str]:
    from samverkan.settings import Settings

    settings = Settings()
    return settings.kb_dir, settings.kommun_dir, settings.kommun


def kommun_kb(
    kb: KnowledgeBase, kommun: str | None, kommun_dir: Path | None
) -> tuple[KnowledgeBase, Kommuner]:
    """`kb` as kommun `kommun` sees it (or the default profile); KommunError when a profile is
    broken or the kommun has none."""
    kommuner = load_kommuner(kb, extra_dir=kommun_dir, default=kommun or None)
    profile = kommuner.for_tenant(None)
    return (with_profile(kb, profile) if profile is not None else kb), kommuner


def list_(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        kb_dir, kommun_dir, chosen = _settings_dirs(args)
        kb = load(kb_dir)
    except KnowledgeError as exc:
        print(texts().text("kb.broken", count=len(exc.problems)), file=sys.stderr)
        return 1
    except ValueError as exc:
        print(texts().text("kb.bad_settings", problem=exc), file=sys.stderr)
        return 2
    try:
        kommuner = load_kommuner(kb, extra_dir=kommun_dir, default=chosen or None)
    except KommunError as exc:
        print(texts().text("kommuner.broken", problems=exc), file=sys.stderr)
        return 1
    rows = [
        {
            "id": p.id,
            "name": p.name,
            "organisation": p.info.organisation.kind,
            "units": [u.name for u in p.info.organisation.units],
            "example": p.example,
            "default": p.id == kommuner.default,
            "routines": len(p.routines),
            "words": len(p.words),
            "forums": len(p.forums),
            "registry": p.has_registry,
            "directory": str(p.directory),
        }
        for p in sorted(kommuner.profiles.values(), key=lambda p: p.id)
    ]
    if getattr(args, "json", False):
        out.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return 0
    for row in rows:
        marks = [texts().text("kommuner.example")] if row["example"] else []
        if row["default"]:
            marks.append(texts().text("kommuner.default"))
        out.write(
            texts().text(
                "kommuner.row",
                id=row["id"],
                name=row["name"],
                routines=row["routines"],
                words=row["words"],
                forums=row["forums"],
                marks=f" ({', '.join(marks)})" if marks else "",
            )
            + "\n"
        )
    return 0
