"""YAML without surprises.

- `safe_load` for the product's own data (knowledge base, flows, catalogues): the safe loader of
  libyaml (C) when PyYAML was built with it, about ten times faster than the pure-Python one.
- `DepthLimitedLoader` for administrators' files: a SafeLoader that refuses nesting deeper than
  `MAX_DEPTH` levels with the line where it happened, instead of recursing until Python's
  recursion limit. Feature packages subclass it to add their constructors."""

from __future__ import annotations

from typing import Any

import yaml

MAX_DEPTH = 20  # levels of nesting a registry or forum file may have

# libyaml when available (it is in the wheels PyPI ships), else the pure-Python loader.
FAST_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(stream: Any) -> Any:
    """yaml.safe_load with libyaml when available: text or an open file."""
    return yaml.load(stream, Loader=FAST_SAFE_LOADER)


class TooDeepError(yaml.YAMLError):
    def __init__(self, line: int) -> None:
        super().__init__(f"nested deeper than {MAX_DEPTH} levels")
        self.line = line


class DepthLimitedLoader(yaml.SafeLoader):
    """A SafeLoader that raises TooDeepError past MAX_DEPTH levels of nesting."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise TooDeepError(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
