"""The trained models the tests and their servers load from the tests' cache directory
(SAMVERKAN_CACHE_DIR, see tests/conftest.py), built once before a parallel run starts.

Without this, in a fresh clone every test process that first needs the national search index,
the situations model or an example kommun's index builds it itself (2.5–10 s each), often two
processes the same one at the same time, and the servers started by the end-to-end and browser
tests build the kommun indexes again while the test waits. `warm` builds what is missing, each
model in its own process, as many at once as there are test processes; what is in the cache
already is only checked (its key is a hash of what it is built from), in about a second.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import warnings
from pathlib import Path

# The example profiles the tests and the browser tests start servers with.
KOMMUNER = ("stockholm", "ekero", "lekeberg")


def _build(what: str, cache: str) -> str:
    from knowledge.loader import load

    cache_dir = Path(cache)
    if what == "national":
        from knowledge.search import SearchIndex
        from knowledge.situations import SituationDetector

        SituationDetector.load_or_build(None, cache_dir)
        SearchIndex.load_or_build(load(), cache_dir)
        return what
    from knowledge.kommun import cache_dir_for, load_kommuner, with_profile
    from knowledge.search import SearchIndex

    national = load()
    profile = load_kommuner(national).profiles[what]
    SearchIndex.load_or_build(with_profile(national, profile), cache_dir_for(cache_dir, profile))
    return what


def warm(processes: int) -> None:
    """Build what is missing of the national index, the situations model and each example
    kommun's index, in `processes` processes. A build that fails (a broken knowledge base) is
    only warned about: the tests that need it build it again and fail with the reason."""
    cache = os.environ["SAMVERKAN_CACHE_DIR"]
    jobs = ("national", *KOMMUNER)
    with concurrent.futures.ProcessPoolExecutor(
        max(1, processes), mp_context=multiprocessing.get_context("fork")
    ) as pool:
        for done in concurrent.futures.as_completed([pool.submit(_build, j, cache) for j in jobs]):
            try:
                done.result()
            except Exception as exc:  # any failure is the tests' to report
                warnings.warn(f"warming the model cache failed: {exc!r}", stacklevel=1)
