"""What the caches of trained models (knowledge.search, knowledge.situations) share: the versions
of the libraries a model depends on, writing a cache file so that no other process (a second
server, a pytest-xdist worker) ever reads half of it, and forgetting old files: every change of
the knowledge base or the code makes a new file, so a file not used for `KEEP_UNUSED` is removed
when a new one of its kind is written (a file is marked used each time it is loaded)."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import IO

KEEP_UNUSED = 30 * 24 * 3600  # seconds a cache file may go unused before it is removed


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
    forget_unused(path)


def mark_used(path: Path) -> None:
    """A cache file was loaded: it is in use (its modification time is now)."""
    with contextlib.suppress(OSError):  # a read-only cache still serves
        os.utime(path)


def forget_unused(path: Path, *, now: float | None = None) -> list[Path]:
    """Remove the files of the same kind as `path` (same prefix before the first "-", same
    suffix) in its folder that were not used for KEEP_UNUSED seconds; the removed files."""
    now = time.time() if now is None else now
    prefix = path.name.split("-", 1)[0]
    removed: list[Path] = []
    for other in path.parent.glob(f"{prefix}-*{path.suffix}"):
        if other == path:
            continue
        try:
            if now - other.stat().st_mtime > KEEP_UNUSED:
                other.unlink()
                removed.append(other)
        except OSError:
            continue  # gone already, or another process's: never fail a start for it
    return removed
