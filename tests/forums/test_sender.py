"""The one outbound path: exact rate limits, retries with backoff and Retry-After, outcomes."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.clock import FixedClock
from outbound.sender import (
    RateLimit,
    RetryPolicy,
    Sender,
    SendError,
    SendInterrupted,
    SlidingWindowLimiter,
)

from .conftest import FakeSleeper, FakeTransport, conversation_reference

T0 = datetime(2026, 9, 7, 11, 0, tzinfo=UTC)


def max_in_window(times: list[datetime], seconds: float) -> int:
    """The largest number of events in any half-open window [t, t + seconds)."""
    ts = sorted(times)
    best = 0
    j = 0
    for i, t in enumerate(ts):
        while ts[j] <= t - timedelta(seconds=seconds):
            j += 1
        best = max(best, i - j + 1)
    return best


def make(plan=None, **kw) -> tuple[Sender, FakeTransport, FakeSleeper, FixedClock]:  # type: ignore[no-untyped-def]
    clock = FixedClock(T0)
    sleeper = FakeSleeper(clock)
    transport = FakeTransport(clock, plan)
    sender = Sender(transport, clock, sleeper, rng=random.Random(7), **kw)
    return sender, transport, sleeper, clock


REF = conversation_reference("c1")


@given(
    gaps=st.lists(st.integers(min_value=0, max_value=400_000), min_size=1, max_size=120),
)
@settings(max_examples=60, deadline=None)
def test_sliding_window_never_exceeds_the_limits(gaps: list[int]) -> None:
    """Requests arrive at arbitrary times; the limiter delays them so no window is exceeded."""
    limiter = SlidingWindowLimiter([RateLimit(7, 1.0), RateLimit(60, 30.0)])
    now = 0
    sent: list[int] = []
    for gap in gaps:
        now += gap
        wait = limiter.wait("k", now)
        assert wait >= 0
        now += wait
        assert limiter.wait("k", now) == 0
        limiter.record("k", now)
        sent.append(now)
    for limit, per in ((7, 1_000_000), (60, 30_000_000)):
        for i in range(len(sent)):
            inside = [t for t in sent[i:] if t < sent[i] + per]
            assert len(inside) <= limit


async def test_per_conversation_limits_on_the_fake_clock() -> None:
    sender, transport, _, _ = make()
    for _ in range(130):
        out = await sender.send("c1", REF, {}, "s")
        assert out.result == "sent"
    times = [c.at for c in transport.calls]
    assert max_in_window(times, 1) == 7
    assert max_in_window(times, 30) == 60
    # 130 messages need at least two full 30-second windows after the first 60.
    assert times[-1] - times[0] >= timedelta(seconds=60)


async def test_global_limit_across_conversations() -> None:
    sender, transport, _, _ = make()
    await asyncio.gather(
        *(sender.send(f"c{i}", conversation_reference(f"c{i}"), {}, "s") for i in range(300))
    )
    times = [c.at for c in transport.calls]
    assert len(times) == 300
    assert max_in_window(times, 1) == 50
    assert times[-1] - times[0] >= timedelta(seconds=5)


async def test_429_with_retry_after_is_honoured() -> None:
    def plan(conv: str, n: int) -> SendError | None:
        return SendError(429, retry_after=3.0) if n <= 2 else None

    sender, transport, _, _ = make(plan)
    out = await sender.send("c1", REF, {}, "s")
    assert (out.result, out.attempts) == ("sent", 3)
    t = [c.at for c in transport.calls]
    assert t[1] - t[0] >= timedelta(seconds=3) and t[2] - t[1] >= timedelta(seconds=3)
    assert out.error == "HTTP 429, Retry-After 3 s"  # the last transient error is kept


@pytest.mark.parametrize("status", [412, 429, 500, 502, 503, 504])
async def test_transient_statuses_are_retried(status: int) -> None:
    sender, _transport, sleeper, _ = make(lambda c, n: SendError(status) if n == 1 else None)
    out = await sender.send("c1", REF, {}, "s")
    assert (out.result, out.attempts) == ("sent", 2)
    assert len(sleeper.sleeps) == 1 and 0 <= sleeper.sleeps[0] <= 1.0  # full jitter, attempt 1


async def test_connection_errors_are_retried() -> None:
    errors = [ConnectionResetError("reset"), TimeoutError(), SendError(0, message="refused")]
    sender, _, _, _ = make(lambda c, n: errors[n - 1] if n <= 3 else None)
    out = await sender.send("c1", REF, {}, "s")
    assert (out.result, out.attempts) == ("sent", 4)


@pytest.mark.parametrize("status", [403, 404])
async def test_gone_is_not_retried(status: int) -> None:
    sender, transport, _, _ = make(lambda c, n: SendError(status))
    out = await sender.send("c1", REF, {}, "s")
    assert (out.result, out.attempts, out.status) == ("gone", 1, status)
    assert len(transport.calls) == 1


async def test_other_client_errors_are_rejected() -> None:
    sender, _transport, _, _ = make(lambda c, n: SendError(400))
    out = await sender.send("c1", REF, {}, "s")
    assert (out.result, out.attempts) == ("rejected", 1)


async def test_gives_up_after_max_attempts_with_growing_full_jitter() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=60.0)
    sender, transport, sleeper, _ = make(lambda c, n: SendError(502), policy=policy)
    out = await sender.send("c1", REF, {}, "s")
    assert (out.result, out.attempts, out.status) == ("gave_up", 5, 502)
    assert len(transport.calls) == 5
    backoffs = [s for s in sleeper.sleeps]
    assert len(backoffs) == 4
    for n, delay in enumerate(backoffs, start=1):
        assert 0 <= delay <= 2 ** (n - 1)
    # Seeded: the same RNG gives the same delays.
    again = make(lambda c, n: SendError(502), policy=policy)
    await again[0].send("c1", REF, {}, "s")
    assert again[2].sleeps == backoffs


async def test_long_retry_after_is_not_slept_inline() -> None:
    sender, _transport, sleeper, _clock = make(lambda c, n: SendError(429, retry_after=600))
    out = await sender.send("c1", REF, {}, "s")
    assert out.result == "retry_later" and out.attempts == 1
    assert out.retry_at == T0 + timedelta(seconds=600)
    assert sleeper.sleeps == []


async def test_before_attempt_can_veto_and_counts_attempts() -> None:
    seen: list[int] = []

    async def before(n: int) -> bool:
        seen.append(n)
        return n < 3

    sender, transport, _, _ = make(lambda c, n: SendError(502))
    out = await sender.send("c1", REF, {}, "s", first_attempt=2, before_attempt=before)
    assert out.result == "aborted" and seen == [2, 3] and len(transport.calls) == 1


async def test_cancellation_lets_the_request_in_flight_finish() -> None:
    clock = FixedClock(T0)
    started = asyncio.Event()
    release = asyncio.Event()

    class Slow:
        calls = 0

        async def send(self, reference, card, summary) -> None:  # type: ignore[no-untyped-def]
            started.set()
            await release.wait()
            Slow.calls += 1

    sender = Sender(Slow(), clock, FakeSleeper(clock), rng=random.Random(1))
    task = asyncio.create_task(sender.send("c1", REF, {}, "s"))
    await started.wait()
    task.cancel()
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(SendInterrupted) as info:
        await task
    assert info.value.outcome is not None and info.value.outcome.result == "sent"
    assert Slow.calls == 1


async def test_retry_after_pauses_the_whole_conversation() -> None:
    def plan(conv: str, n: int) -> SendError | None:
        return SendError(429, retry_after=5.0) if (conv, n) == ("c1", 1) else None

    # Waits longer than 1 s are not slept inline, so the first send returns at once.
    sender, transport, _, _ = make(plan, policy=RetryPolicy(max_inline_delay=1.0))
    first = await sender.send("c1", REF, {}, "first")
    assert first.result == "retry_later"
    other = await sender.send("c2", conversation_reference("c2"), {}, "other")
    same = await sender.send("c1", REF, {}, "same conversation")
    assert other.result == same.result == "sent"
    rejected, c2, c1 = transport.calls
    assert (rejected.conversation, rejected.status, c2.conversation) == ("c1", 429, "c2")
    assert c2.at == rejected.at  # other conversations are not paused
    assert c1.at >= rejected.at + timedelta(seconds=5)
