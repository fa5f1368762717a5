"""Text catalogues: every user-facing Swedish text lives in YAML, one file per package.

`dialogs/messages.sv.yaml` holds the conversation; every other package keeps its texts in its own
`texts.sv.yaml` (error messages, CLI output, card labels) and reads them with its `texts()`.
A catalogue is a tree of keys; leaves are texts with `{placeholders}` (str.format syntax, plain
names only; `{{` and `}}` are literal braces) or lists of phrases (words the bot recognises).
Keys are addressed with dots: `menu.title`, `flow.cancelled`.

`text()` refuses unknown keys and unfilled or unexpected placeholders, so a wrong key fails
loudly in tests instead of showing a broken sentence. A catalogue never changes once loaded:
`load_once(path)` reads each file once, and a variant with some texts replaced is a new catalogue
(`replaced`). `tests/test_catalogue.py` checks that no module holds Swedish text of its own and
that every key used in code exists, with its placeholders, and every key is used.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from common.yaml_safe import FAST_SAFE_LOADER

# The texts of common/ itself: this module's error messages and the Swedish words of
# common.swedish.
COMMON_TEXTS = Path(__file__).resolve().with_name("texts.sv.yaml")


class MessageError(LookupError):
    """A key that does not exist, or placeholders that do not match the values given."""


def placeholders_of(template: str) -> set[str]:
    names: set[str] = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None:
            names.add(field)
    return names


@functools.cache
def _own_texts(path: Path) -> dict[str, str]:
    """This module's own error texts, read without the checks (they would need these texts).
    tests/test_catalogue.py checks the file like every other catalogue."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=FAST_SAFE_LOADER)
    return {str(k): str(v) for k, v in data["catalogue"].items()}


def _error(which: str, /, **values: object) -> MessageError:
    return MessageError(_own_texts(COMMON_TEXTS)[which].format(**values))


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=FAST_SAFE_LOADER)  # libyaml when available


def _flatten(
    node: Any, prefix: str, texts: dict[str, str], lists: dict[str, tuple[str, ...]]
) -> None:
    if isinstance(node, Mapping):
        for k, v in node.items():
            if not isinstance(k, str) or not k or "." in k:
                where = prefix or _own_texts(COMMON_TEXTS)["root"]
                raise _error("bad_key", key=repr(k), where=where)
            _flatten(v, f"{prefix}.{k}" if prefix else k, texts, lists)
        return
    if isinstance(node, str):
        if not node.strip():
            raise _error("empty", key=prefix)
        for name in placeholders_of(node):
            if not name.isidentifier():
                raise _error("placeholder", key=prefix, name=name)
        texts[prefix] = node
        return
    if isinstance(node, list) and all(isinstance(x, str) and x.strip() for x in node) and node:
        lists[prefix] = tuple(node)
        return
    raise _error("bad_value", key=prefix)


class Catalogue:
    """One catalogue file's texts and phrase lists, read-only."""

    def __init__(self, texts: Mapping[str, str], lists: Mapping[str, tuple[str, ...]]) -> None:
        self._texts = dict(texts)
        self._lists = dict(lists)

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        """Read and check a catalogue file (every call reads it again; see `load_once`)."""
        data = _read(path)
        if not isinstance(data, Mapping):
            raise _error("not_mapping", path=path)
        texts: dict[str, str] = {}
        lists: dict[str, tuple[str, ...]] = {}
        _flatten(data, "", texts, lists)
        return cls(texts, lists)

    def replaced(self, texts: Mapping[str, str]) -> Catalogue:
        """A new catalogue with some texts replaced (say, a kommun's own wording); every key
        must exist and keep its placeholders. This catalogue does not change."""
        for key, value in texts.items():
            if placeholders_of(value) != placeholders_of(self.template(key)):
                raise _error("replaced", key=key)
        return Catalogue({**self._texts, **texts}, self._lists)

    def section(self, prefix: str) -> dict[str, str]:
        """Every text whose key starts with `prefix`."""
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
            raise _error("unknown_key", key=repr(key)) from None

    def text(self, key: str, /, **values: object) -> str:
        template = self.template(key)
        wanted = placeholders_of(template)
        missing = wanted - values.keys()
        extra = values.keys() - wanted
        if missing or extra:
            raise _error("placeholders", key=key, missing=sorted(missing), extra=sorted(extra))
        return template.format(**values)

    def phrases(self, key: str) -> tuple[str, ...]:
        try:
            return self._lists[key]
        except KeyError:
            raise _error("unknown_list", key=repr(key)) from None

    def date(self, d: date) -> str:
        """'22 november 2026' (common.swedish.date)."""
        from common import swedish

        return swedish.date(d)


@functools.cache
def load_once(path: Path) -> Catalogue:
    """The catalogue at `path`, read and checked on first use: a catalogue never changes, so
    every package reads its file once (the same immutable data, not state)."""
    return Catalogue.load(path)
