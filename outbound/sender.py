"""Proactive sending that can be trusted: one rate-limited, retrying outbound path (`Sender`).

Teams throttles bots (about 7 messages/s and 60 per 30 s per conversation, about 50 requests/s
per app and tenant) and answers 429, 412, 502 or 504 under load; the Bot Framework connector does
not retry. So every proactive message goes through `Sender.send`:

- rate limits per conversation and globally, as exact sliding windows on the injected clock
  ("at most N in any window of W seconds": unlike a token bucket, which lets C + rT through in a
  window of T, this never exceeds the documented limit);
- retries on 429/412/500/502/503/504 and connection errors with exponential backoff and full
  jitter (seeded RNG injectable), never sooner than Retry-After; a Retry-After also pauses that
  conversation; gives up after `max_attempts`;
- a request that gets no answer within `RetryPolicy.request_timeout` may have arrived: it is not
  sent again ('unknown');
- 403 and 404 mean the bot can no longer write there (the caller ends subscriptions).

The transport (bot.proactive) plugs in below; the reminder scheduler (forums.reminders) uses it
above. SDK-free. The limits are per process (one Sender per app): with N instances pass
`global_limits=(RateLimit(50 // N, 1.0),)`. The clock and the sleeper must agree (SystemClock
with asyncio.sleep; in tests a sleeper that moves the FixedClock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal, Protocol

from common.clock import Clock
from outbound import texts

log = logging.getLogger(__name__)


# --- the transport contract -------------------------------------------------------------------


class SendError(Exception):
    """A send that failed: the HTTP status (0 = no response: connection error, timeout)."""

    def __init__(self, status: int, retry_after: float | None = None, message: str = "") -> None:
        self.status = status
        self.retry_after = retry_after
        reason = f"HTTP {status}" if status else texts().text("send.no_contact")
        super().__init__(message or reason)


class Transport(Protocol):
    async def send(self, reference: dict[str, Any], card: dict[str, Any], summary: str) -> None:
        """Send one card to the conversation of `reference`; raise SendError on failure."""
        ...


Sleeper = Callable[[float], Awaitable[None]]
BeforeAttempt = Callable[[int], Awaitable[bool]]
AfterAttempt = Callable[[], Awaitable[None]]


# --- rate limits -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    limit: int  # at most this many sends …
    per: float  # … in any window of this many seconds


PER_CONVERSATION = (RateLimit(7, 1.0), RateLimit(60, 30.0))
GLOBAL = (RateLimit(50, 1.0),)
_US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(dt: datetime) -> int:
    return (dt - _EPOCH) // timedelta(microseconds=1)


class SlidingWindowLimiter:
    """At most `limit` events per `per` seconds in ANY window, per key (integer microseconds)."""

    def __init__(self, limits: Sequence[RateLimit]) -> None:
        if not limits:
            raise ValueError("at least one rate limit")
        self._limits = [(lim.limit, math.ceil(lim.per * _US)) for lim in limits]
        self._keep = max(lim.limit for lim in limits)
        self._horizon = max(per for _, per in self._limits)
        self._events: dict[str, deque[int]] = {}
        self._paused: dict[str, int] = {}

    def wait(self, key: str, now: int) -> int:
        """Microseconds until one more event for `key` is allowed (0: now)."""
        wait = max(0, self._paused.get(key, 0) - now)
        events = self._events.get(key)
        if events:
            for limit, per in self._limits:
                if len(events) >= limit:
                    wait = max(wait, events[-limit] + per - now)
        return wait

    def record(self, key: str, now: int) -> None:
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque(maxlen=self._keep)
        events.append(now)

    def pause(self, key: str, until: int) -> None:
        self._paused[key] = max(self._paused.get(key, 0), until)

    def prune(self, now: int) -> None:
        """Forget keys that cannot limit anything any more."""
        for key in [k for k, ev in self._events.items() if ev[-1] + self._horizon <= now]:
            del self._events[key]
        for key in [k for k, until in self._paused.items() if until <= now]:
            del self._paused[key]

    def __len__(self) -> int:
        return len(self._events)


class Throttle:
    """Per-conversation and global limits together: a send waits until both allow it."""

    GLOBAL_KEY = "*"

    def __init__(
        self,
        clock: Clock,
        sleeper: Sleeper,
        per_conversation: Sequence[RateLimit] = PER_CONVERSATION,
        global_limits: Sequence[RateLimit] = GLOBAL,
    ) -> None:
        self._clock = clock
        self._sleeper = sleeper
        self._conversations = SlidingWindowLimiter(per_conversation)
        self._global = SlidingWindowLimiter(global_limits)
        self._since_prune = 0
        # Marking a request as in flight and taking its slot happen under this lock, so no
        # other request takes the slot while the mark is written.
        self._marking = asyncio.Lock()

    async def wait_free(self, key: str) -> None:
        """Wait until a send for `key` would be allowed, without taking the slot."""
        while True:
            now = _micros(self._clock.now())
            wait = max(self._conversations.wait(key, now), self._global.wait(self.GLOBAL_KEY, now))
            if wait <= 0:
                return
            await self._sleeper(max(wait, 1) / _US)

    def _wait(self, key: str) -> int:
        now = _micros(self._clock.now())
        return max(self._conversations.wait(key, now), self._global.wait(self.GLOBAL_KEY, now))

    def _take(self, key: str) -> None:
        now = _micros(self._clock.now())
        self._conversations.record(key, now)
        self._global.record(self.GLOBAL_KEY, now)
        self._since_prune += 1
        if self._since_prune >= 1000:
            self._conversations.prune(now)
            self._since_prune = 0

    async def acquire(self, key: str) -> None:
        while True:
            wait = self._wait(key)
            if wait <= 0:
                # No await between this check and the caller's send: the slot is ours.
                self._take(key)
                return
            await self._sleeper(max(wait, 1) / _US)

    async def acquire_marked(self, key: str, mark: Callable[[], Awaitable[bool]]) -> bool:
        """Take a slot for `key` and, just before, run `mark()` (which records the request as
        in flight): a request is marked only when its slot is free and nobody else can take it
        meanwhile. False (and no slot) when `mark` vetoes."""
        while True:
            await self.wait_free(key)
            async with self._marking:
                if self._wait(key) > 0:
                    continue  # taken while we waited for the lock
                if not await mark():
                    return False
                if self._wait(key) <= 0:  # time only moves on: still free
                    self._take(key)
                    return True
            await self.acquire(key)  # pragma: no cover - a clock that went back
            return True

    def pause(self, key: str, seconds: float) -> None:
        now = _micros(self._clock.now())
        self._conversations.pause(key, now + math.ceil(seconds * _US))


# --- the sender --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    # One request may take this long; then its outcome is unknown (it may have arrived) and it
    # is not sent again. Shorter than the scheduler's lease, so a claim never runs out in flight.
    request_timeout: float = 15.0
    base_delay: float = 1.0  # seconds; attempt n waits up to base · 2^(n-1) (full jitter)
    max_delay: float = 60.0
    # A wait longer than this (a long Retry-After) is not slept inline: the delivery is stored as
    # failed with its next attempt time and picked up by a later tick.
    max_inline_delay: float = 60.0
    retry_statuses: frozenset[int] = frozenset({412, 429, 500, 502, 503, 504})
    gone_statuses: frozenset[int] = frozenset({403, 404})

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None) -> float:
        cap = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1))
        jitter = rng.uniform(0, cap)
        return max(jitter, retry_after) if retry_after is not None else jitter


Result = Literal["sent", "retry_later", "gave_up", "gone", "rejected", "aborted", "unknown"]


@dataclass(frozen=True)
class SendOutcome:
    result: Result
    attempts: int  # attempts made by this call
    status: int | None = None  # last HTTP status; 0 = no response
    error: str | None = None
    retry_at: datetime | None = None


class SendInterrupted(asyncio.CancelledError):
    """The sending task was cancelled; `outcome` is what the request in flight came to."""

    def __init__(self, outcome: SendOutcome | None) -> None:
        super().__init__()
        self.outcome = outcome


def _describe(exc: BaseException) -> tuple[int, float | None, str]:
    if isinstance(exc, SendError):
        status = exc.status
        text = f"HTTP {status}" if status else texts().text("send.no_contact_because", reason=exc)
        if exc.retry_after is not None:
            text += f", Retry-After {exc.retry_after:g} s"
        return status, exc.retry_after, text
    if isinstance(exc, OSError | TimeoutError):
        return 0, None, texts().text("send.no_contact_because", reason=type(exc).__name__)
    return -1, None, texts().text("send.unexpected", error=type(exc).__name__)


class Sender:
    """The one outbound path for proactive messages: limits, retries, clear outcomes."""

    def __init__(
        self,
        transport: Transport,
        clock: Clock,
        sleeper: Sleeper,
        *,
        rng: random.Random | None = None,
        policy: RetryPolicy | None = None,
        per_conversation: Sequence[RateLimit] = PER_CONVERSATION,
        global_limits: Sequence[RateLimit] = GLOBAL,
        drain_timeout: float = 30.0,
    ) -> None:
        self._transport = transport
        self._clock = clock
        self._sleeper = sleeper
        self._rng = rng if rng is not None else random.Random()
        self.policy = policy or RetryPolicy()
        self._throttle = Throttle(clock, sleeper, per_conversation, global_limits)
        self._drain_timeout = drain_timeout

    async def send(
        self,
        conversation_key: str,
        reference: dict[str, Any],
        card: dict[str, Any],
        summary: str,
        *,
        first_attempt: int = 1,
        before_attempt: BeforeAttempt | None = None,
        after_attempt: AfterAttempt | None = None,
        concurrency: asyncio.Semaphore | None = None,
    ) -> SendOutcome:
        """Send with limits and retries.

        `before_attempt(n)` runs once the rate limiter has granted attempt n, immediately before
        the request (the caller marks the request as in flight there) and may veto it
        (→ 'aborted'); `after_attempt()` runs when an attempt failed with a known outcome (the
        request is no longer in flight). `concurrency` bounds the requests in flight: it is held
        only during an attempt, never while backing off, so a slow recipient holds one slot for
        at most `policy.request_timeout`. A request that got no answer in time may have arrived:
        it is not sent again ('unknown').
        """
        policy = self.policy
        made = 0
        status: int | None = None
        error: str | None = None
        attempt = first_attempt
        while True:
            if attempt > policy.max_attempts:
                return SendOutcome(
                    "gave_up", made, status, error or texts().text("send.no_attempts_left")
                )
            made += 1
            failure = await self._attempt(
                conversation_key,
                reference,
                card,
                summary,
                made,
                status,
                error,
                before=(partial(before_attempt, attempt) if before_attempt is not None else None),
                concurrency=concurrency,
            )
            if isinstance(failure, _Vetoed):
                return SendOutcome("aborted", made - 1, status, error)
            if failure is None:
                return SendOutcome("sent", made, 200, error)
            if isinstance(failure, _NoAnswer):
                no_answer = texts().text("send.no_answer", seconds=policy.request_timeout)
                return SendOutcome("unknown", made, 0, no_answer)
            if after_attempt is not None:
                await after_attempt()
            status, retry_after, error = _describe(failure)
            if status in policy.gone_statuses:
                return SendOutcome("gone", made, status, error)
            if status > 0 and status not in policy.retry_statuses:
                return SendOutcome("rejected", made, status, error)
            if retry_after is not None and retry_after > 0:
                self._throttle.pause(conversation_key, retry_after)
            if attempt >= policy.max_attempts:
                return SendOutcome("gave_up", made, status, error)
            delay = policy.delay(attempt, self._rng, retry_after)
            if delay > policy.max_inline_delay:
                retry_at = self._clock.now() + timedelta(seconds=delay)
                return SendOutcome("retry_later", made, status, error, retry_at)
            log.debug("send to %s failed (%s); retry in %.2f s", conversation_key, error, delay)
            await self._sleeper(delay)
            attempt += 1

    async def _attempt(
        self,
        conversation_key: str,
        reference: dict[str, Any],
        card: dict[str, Any],
        summary: str,
        made: int,
        status: int | None,
        error: str | None,
        *,
        before: Callable[[], Awaitable[bool]] | None = None,
        concurrency: asyncio.Semaphore | None = None,
    ) -> BaseException | None:
        """Wait for a slot, mark the attempt, then one call of the transport; None when it
        succeeded, _Vetoed when `before` said no, _NoAnswer when the transport did not answer
        within the request timeout.

        A cancellation while waiting for the slot or marking simply cancels; a cancellation
        while the request is in flight lets it finish (up to drain_timeout) and raises
        SendInterrupted with its outcome.
        """
        in_flight = False
        timeout = self.policy.request_timeout

        async def slot_then_call() -> BaseException | None:
            nonlocal in_flight
            # The request is marked as in flight only when its slot is granted (never while it
            # queues for one), and the slot is taken with nothing between it and the request,
            # so that the limits hold for the requests as Teams sees them.
            if before is None:
                await self._throttle.acquire(conversation_key)
            elif not await self._throttle.acquire_marked(conversation_key, before):
                return _Vetoed()
            in_flight = True
            deadline = asyncio.timeout(timeout)
            try:
                async with deadline:
                    await self._transport.send(reference, card, summary)
            except TimeoutError:
                if deadline.expired():
                    return _NoAnswer()
                raise  # the transport's own timeout (connecting): retried as before
            return None

        async def gated() -> BaseException | None:
            if concurrency is None:
                return await slot_then_call()
            async with concurrency:
                return await slot_then_call()

        call = asyncio.ensure_future(gated())
        try:
            return await asyncio.shield(call)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if call.cancelled() and (task is None or not task.cancelling()):
                # The transport cancelled its own call, not us.
                return TimeoutError("the transport cancelled the call")
            if not in_flight:
                call.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await call
                raise
            if not call.done():
                done, _ = await asyncio.wait({call}, timeout=self._drain_timeout)
                if not done:
                    call.cancel()
                    raise SendInterrupted(None) from None
            if call.cancelled():
                raise SendInterrupted(None) from None
            exc = call.exception()
            result = call.result() if exc is None else exc
            if result is None:
                raise SendInterrupted(SendOutcome("sent", made, 200, error)) from None
            if isinstance(result, _NoAnswer):
                raise SendInterrupted(None) from None
            st, _, text = _describe(result)
            if st in self.policy.gone_statuses:
                outcome = SendOutcome("gone", made, st, text)
            elif st > 0 and st not in self.policy.retry_statuses:
                outcome = SendOutcome("rejected", made, st, text)
            else:
                outcome = SendOutcome("retry_later", made, st, text, self._clock.now())
            raise SendInterrupted(outcome) from None
        except Exception as exc:
            return exc


class _Vetoed(Exception):
    """before_attempt said no: nothing was sent."""


class _NoAnswer(Exception):
    """The request went out but no answer came in time: it may have arrived."""


