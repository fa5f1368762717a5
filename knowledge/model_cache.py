"""What the caches of trained models (knowledge.search, knowledge.situations) share: the versions
of the libraries a model depends on, and writing a cache file so that no other process (a second
server, a pytest-xdist worker) ever reads half of it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import IO


def versions(names: Iterable[str]) -> list[str]:
    """'numpy 2.4.6', … ('numpy -' for a library that is not installed)."""
    out = []
    for name in names:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} -")
    return out


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write `path` through `write` into a temporary file beside it, then rename it into place
    (atomic on one file system: a reader sees the old file, no file or the whole new one).
    OSError when the folder cannot be made or written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name no other process or thread uses; created anew ("x"), with the umask's permissions.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    try:
        with tmp.open("xb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
