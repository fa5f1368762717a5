"""The clocks in common.clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from common.clock import ShiftedClock


def test_shifted_clock_starts_at_the_instant_and_runs_with_the_monotonic_clock() -> None:
    ticks = iter([100.0, 100.0, 102.5])
    start = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    clock = ShiftedClock(start, monotonic=lambda: next(ticks))
    assert clock.now() == start
    assert clock.now() == start + timedelta(seconds=2.5)
    with pytest.raises(ValueError):
        ShiftedClock(datetime(2027, 3, 1, 8, 0))
