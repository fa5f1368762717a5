"""The trained models the tests and their servers load from the tests' cache directory
(SAMVERKAN_CACHE_DIR, see tests/conftest.py), built once before a parallel run starts.

Without this, in a fresh clone every test process that first needs the national search index
or the situations model builds it itself, often two processes the same one at the same time.
(A kommun's index reads with the national model: nothing to build.) `warm` builds what is
missing, each model in its own process; what is in the cache already is only checked (its key
is a hash of what it is built from), in about a second.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import warnings
from pathlib import Path


def _build(what: str, cache: str) -> str:
    from knowledge.loader import load

    cache_dir = Path(cache)
    if what == "situations":
        from knowledge.situations import SituationDetector

        SituationDetector.load_or_build(None, cache_dir)
    else:  # the national search index (a kommun's index reads with its model)
        from knowledge.search import SearchIndex

        SearchIndex.load_or_build(load(), cache_dir)
    return what


def warm(processes: int) -> None:
    """Build what is missing of the national index, the situations model and each example
    kommun's index, in `processes` processes. A build that fails (a broken knowledge base) is
    only warned about: the tests that need it build it again and fail with the reason."""
    cache = os.environ["SAMVERKAN_CACHE_DIR"]
    jobs = ("search", "situations")
    with concurrent.futures.ProcessPoolExecutor(
        max(1, processes), mp_context=multiprocessing.get_context("fork")
    ) as pool:
        for done in concurrent.futures.as_completed([pool.submit(_build, j, cache) for j in jobs]):
            try:
                done.result()
            except Exception as exc:  # any failure is the tests' to report
                warnings.warn(f"warming the model cache failed: {exc!r}", stacklevel=1)
