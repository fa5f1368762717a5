"""The message catalogue: every user-facing Swedish text of the conversation in one YAML file.

`dialogs/messages.sv.yaml` is a tree of keys; leaves are texts with `{placeholders}` (str.format
syntax, plain names only) or lists of phrases (words the bot recognises, month names). Keys are
addressed with dots: `menu.title`, `flow.cancelled`. The catalogue is loaded once (by the
services factory) and injected; `text()` refuses unknown keys and unfilled or unexpected
placeholders, so a wrong key fails loudly in tests instead of showing a broken sentence.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DEFAULT_PATH = Path(__file__).resolve().parent / "messages.sv.yaml"


class MessageError(LookupError):
    """A key that does not exist, or placeholders that do not match the values given."""


def placeholders_of(template: str) -> set[str]:
    names: set[str] = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None:
            names.add(field)
    return names


def _flatten(
    node: Any, prefix: str, texts: dict[str, str], lists: dict[str, tuple[str, ...]]
) -> None:
    if isinstance(node, Mapping):
        for k, v in node.items():
            if not isinstance(k, str) or not k or "." in k:
                raise MessageError(f"ogiltig nyckel {k!r} under {prefix or '(rot)'}")
            _flatten(v, f"{prefix}.{k}" if prefix else k, texts, lists)
        return
    if isinstance(node, str):
        if not node.strip():
            raise MessageError(f"{prefix}: tom text")
        for name in placeholders_of(node):
            if not name.isidentifier():
                raise MessageError(f"{prefix}: platshållaren {{{name}}} ska vara ett enkelt namn")
        texts[prefix] = node
        return
    if isinstance(node, list) and all(isinstance(x, str) and x.strip() for x in node) and node:
        lists[prefix] = tuple(node)
        return
    raise MessageError(f"{prefix}: värdet ska vara en text, en lista med texter eller en grupp")


class Messages:
    def __init__(self, texts: Mapping[str, str], lists: Mapping[str, tuple[str, ...]]) -> None:
        self._texts = dict(texts)
        self._lists = dict(lists)

    @classmethod
    def load(cls, path: Path | None = None) -> Messages:
        p = path or DEFAULT_PATH
        with p.open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_SAFE_LOADER)  # libyaml when available
        if not isinstance(data, Mapping):
            raise MessageError(f"{p}: katalogen ska vara en YAML-mappning")
        texts: dict[str, str] = {}
        lists: dict[str, tuple[str, ...]] = {}
        _flatten(data, "", texts, lists)
        return cls(texts, lists)

    def extend(self, other: Mapping[str, str]) -> None:
        """Add texts (for card builders of other modules); existing keys may not change."""
        for k, v in other.items():
            if k in self._texts and self._texts[k] != v:
                raise MessageError(f"{k}: finns redan med en annan text")
            self._texts[k] = v

    def section(self, prefix: str) -> dict[str, str]:
        """Every text whose key starts with `prefix` (for card builders that take `texts=`)."""
        return {k: v for k, v in self._texts.items() if k.startswith(prefix)}

    def has(self, key: str) -> bool:
        return key in self._texts or key in self._lists

    def keys(self) -> set[str]:
        return set(self._texts)

    def list_keys(self) -> set[str]:
        return set(self._lists)

    def template(self, key: str) -> str:
        try:
            return self._texts[key]
        except KeyError:
            raise MessageError(f"okänd meddelandenyckel {key!r}") from None

    def text(self, key: str, /, **values: object) -> str:
        template = self.template(key)
        wanted = placeholders_of(template)
        missing = wanted - values.keys()
        extra = values.keys() - wanted
        if missing or extra:
            raise MessageError(
                f"{key}: platshållare saknas {sorted(missing)} eller är okända {sorted(extra)}"
            )
        return template.format(**values) if wanted else template

    def phrases(self, key: str) -> tuple[str, ...]:
        try:
            return self._lists[key]
        except KeyError:
            raise MessageError(f"okänd fraslista {key!r}") from None

    def date(self, d: date) -> str:
        """'22 november 2026'."""
        months = self.phrases("dates.months")
        return self.text("dates.day_month_year", day=d.day, month=months[d.month - 1], year=d.year)
