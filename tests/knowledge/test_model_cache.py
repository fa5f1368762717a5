"""Cache files of trained models: written whole, and old ones forgotten."""

from __future__ import annotations

import os
import time
from pathlib import Path

from knowledge.model_cache import KEEP_UNUSED, forget_unused, mark_used, write_atomically


def _aged(path: Path, seconds: float) -> Path:
    path.write_bytes(b"old")
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_writing_a_new_file_forgets_those_of_its_kind_unused_for_a_month(tmp_path: Path) -> None:
    stale = _aged(tmp_path / "search-aaaa.pickle", KEEP_UNUSED + 60)
    recent = _aged(tmp_path / "search-bbbb.pickle", KEEP_UNUSED - 3600)
    other_kind = _aged(tmp_path / "situations-cccc.npz", KEEP_UNUSED + 60)
    other_suffix = _aged(tmp_path / "search-dddd.txt", KEEP_UNUSED + 60)
    new = tmp_path / "search-eeee.pickle"
    write_atomically(new, lambda fh: fh.write(b"new"))
    assert new.read_bytes() == b"new"
    assert not stale.exists()
    assert recent.exists() and other_kind.exists() and other_suffix.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_file_that_is_loaded_stays(tmp_path: Path) -> None:
    used = _aged(tmp_path / "situations-aaaa.npz", KEEP_UNUSED + 60)
    mark_used(used)  # loaded today
    assert forget_unused(tmp_path / "situations-bbbb.npz") == []
    assert used.exists()
    assert forget_unused(tmp_path / "situations-bbbb.npz", now=time.time() + KEEP_UNUSED + 60) == [
        used
    ]
