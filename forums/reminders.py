"""The reminder scheduler: claims every reminder exactly once before sending it through the one
outbound path (outbound.sender.Sender).

Teams throttles bots (about 7 messages/s and 60 per 30 s per conversation, about 50 requests/s
per app and tenant) and answers 429, 412, 502 or 504 under load; the Bot Framework connector does
not retry. So every proactive message goes through `Sender.send`:

- rate limits per conversation and globally, as exact sliding windows on the injected clock
  ("at most N in any window of W seconds": unlike a token bucket, which lets C + rT through in a
  window of T, this never exceeds the documented limit);
- retries on 429/412/500/502/503/504 and connection errors with exponential backoff and full
  jitter (seeded RNG injectable), never sooner than Retry-After; a Retry-After also pauses that
  conversation; gives up after `max_attempts`;
- 403 and 404 mean the bot can no longer write there: the caller ends the subscriptions and
  removes the stale conversation reference.

The limits are per process (one Sender per app). Several instances each keep their own global
window, so with N instances pass `global_limits=(RateLimit(50 // N, 1.0),)`. The clock and the
sleeper must agree (SystemClock with asyncio.sleep; in tests a sleeper that moves the FixedClock).

Before sending, each reminder is claimed in the delivery log (forums.claims): only the instance
that holds the claim sends it and records what happened.

Exactly-once over a network is impossible in general; the one window left is a crash while a
request is in flight. A row is marked (`attempt_started_at`) only when the rate limiter has
granted its slot, immediately before the request, and unmarked when the attempt failed with a
known outcome; so after a crash only requests really in flight are uncertain. By default such a
reminder is not sent again (no duplicate) and is recorded as `gave_up` with that reason;
`resend_interrupted=True` chooses the other side. A request that gets no answer within
`RetryPolicy.request_timeout` may have arrived too: it is recorded the same way, never resent
blindly. Claims carry a short lease (30 s), renewed by each attempt, so after a crash the claims
that were still queued are taken over within a tick or two of the restart. The number of
requests in flight is bounded per attempt, never while a job backs off, so a recipient that does
not answer holds up no one else. A graceful stop (task cancellation) lets the request in flight
finish and records its outcome, and releases claims not yet attempted, so a restart loses
nothing.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

from common.clock import Clock
from forums import texts
from forums.claims import DeliveryClaims, Job, TickReport
from forums.model import Forum, Occurrence
from forums.repository import ForumService
from outbound.sender import Sender, SendInterrupted, SendOutcome, Sleeper, Transport
from storage.db import Database

log = logging.getLogger(__name__)

# --- the scheduler -----------------------------------------------------------------------------


async def _settle(bookkeeping: Awaitable[None]) -> None:
    """Record an outcome even if the task is cancelled meanwhile (then stop: SendInterrupted)."""
    task = asyncio.ensure_future(bookkeeping)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise SendInterrupted(None) from None


Renderer = Callable[[Forum, Occurrence, str, str], tuple[dict[str, Any], str]]


class ReminderScheduler:

    def __init__(
        self,
        db: Database,
        forums: ForumService,
        transport: Transport,
        clock: Clock,
        sleeper: Sleeper,
        *,
        sender: Sender | None = None,
        render: Renderer | None = None,
        public_url: str = "",
        forget_conversation: Callable[[int], Awaitable[None]] | None = None,
        instance_id: str | None = None,
        lease: timedelta = timedelta(seconds=30),
        stale_lookback: timedelta = timedelta(days=2),
        concurrency: int = 64,
        batch_size: int = 500,
        resend_interrupted: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        """`sender` should be the app's one Sender (built on `transport` when not given).

        `forget_conversation(ref_id)` removes a stale conversation reference (pass
        `ConversationStore.forget_id` so its cache forgets it too); by default the row is
        deleted directly. `render(forum, occurrence, offset, scope)` gives (card, summary); by
        default the reminder card of forums.card with `public_url` for the .ics link.
        """
        self._forums = forums
        self._clock = clock
        self._sleeper = sleeper
        self._sender = sender or Sender(transport, clock, sleeper, rng=rng)
        self._render = render or self._default_render
        self._public_url = public_url
        self.instance_id = instance_id or f"{uuid.uuid4().hex[:12]}"
        self._concurrency = max(1, concurrency)
        self._claims = DeliveryClaims(
            db,
            clock,
            instance_id=self.instance_id,
            lease=lease,
            stale_lookback=stale_lookback,
            batch_size=max(1, batch_size),
            resend_interrupted=resend_interrupted,
        )
        self._forget = forget_conversation or self._claims.delete_reference

    # public ------------------------------------------------------------------------------------

    async def run(self, *, interval: float = 30.0, stop: asyncio.Event | None = None) -> None:
        """Tick every `interval` seconds (through the injected sleeper) until `stop` is set."""
        while stop is None or not stop.is_set():
            try:
                report = await self.tick()
                if report.claimed or report.reclaimed or report.skipped_stale:
                    log.info("reminders: %s", report)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reminder tick failed; trying again next interval")
            if stop is not None and stop.is_set():
                break
            await self._sleeper(interval)

    async def tick(self) -> TickReport:
        report = TickReport()
        now = self._clock.now()
        claiming = asyncio.ensure_future(self._claims.claim(now, report))
        try:
            jobs = await asyncio.shield(claiming)
        except asyncio.CancelledError:
            # Never leave a transaction half done; give back what was claimed, then stop.
            jobs = await claiming
            await asyncio.shield(self._claims.release_all(jobs))
            raise
        if jobs:
            await self._send_all(jobs, report)
        return report

    # sending -----------------------------------------------------------------------------------

    async def _send_all(self, jobs: list[Job], report: TickReport) -> None:
        # Requests in flight are bounded per attempt (not per job): a job backing off or waiting
        # for a slow recipient does not hold up the others.
        gate = asyncio.Semaphore(self._concurrency)
        async with asyncio.TaskGroup() as tg:
            for job in jobs:
                tg.create_task(self._run_job(job, gate, report))

    async def _run_job(self, job: Job, gate: asyncio.Semaphore, report: TickReport) -> None:
        try:
            await self._deliver(job, report, gate)
        except SendInterrupted:
            raise  # the request in flight was recorded (or is unknowable); see _deliver
        except asyncio.CancelledError:
            # Stopped before or between attempts: nothing is in flight, give the claim back so
            # that the next instance (or this one after a restart) sends it at once.
            await asyncio.shield(self._release(job))
            raise
        except Exception:
            # The row stays claimed; when the lease runs out it is taken over again.
            log.exception("delivery %s failed unexpectedly", job.delivery_id)

    async def _deliver(self, job: Job, report: TickReport, gate: asyncio.Semaphore) -> None:
        scope = "me" if job.target_kind == "personal" else "channel"
        card, summary = self._render(job.forum, job.occurrence, job.offset, scope)
        try:
            outcome = await self._sender.send(
                str(job.ref_id),
                job.reference,
                card,
                summary,
                first_attempt=job.attempts + 1,
                before_attempt=partial(self._begin_attempt, job, report),
                after_attempt=partial(self._end_attempt, job),
                concurrency=gate,
            )
        except SendInterrupted as exc:
            if exc.outcome is not None:
                await _settle(self._record(job, exc.outcome, report))
            raise
        await _settle(self._record(job, outcome, report))

    async def _begin_attempt(self, job: Job, report: TickReport, attempt: int) -> bool:
        step = asyncio.ensure_future(self._claims.begin_attempt(job, report))
        try:
            return await asyncio.shield(step)
        except asyncio.CancelledError:
            await step  # finish the transaction; the caller then releases the claim
            raise

    async def _end_attempt(self, job: Job) -> None:
        """An attempt failed with a known outcome: the request is no longer in flight, so a
        takeover after a crash sends it again instead of treating it as interrupted."""
        now = self._clock.now()
        step = asyncio.ensure_future(self._claims.end_attempt(job.delivery_id, now))
        try:
            await asyncio.shield(step)
        except asyncio.CancelledError:
            await step
            raise

    async def _release(self, job: Job) -> None:
        """Give a claim back (on shutdown) so that any instance can send it at once."""
        await self._claims.release_all([job])

    async def _record(self, job: Job, outcome: SendOutcome, report: TickReport) -> None:
        attempts = job.attempts + outcome.attempts
        claims = self._claims
        if outcome.result == "sent":
            await claims.finish(job.delivery_id, "sent", report, outcome=outcome, reason=job.note)
        elif outcome.result == "retry_later":
            await claims.finish(
                job.delivery_id,
                "failed",
                report,
                outcome=outcome,
                next_attempt_at=outcome.retry_at or self._clock.now(),
            )
        elif outcome.result == "gave_up":
            reason = texts().text("reasons.exhausted", attempts=attempts, error=outcome.error)
            await claims.finish(job.delivery_id, "gave_up", report, outcome=outcome, reason=reason)
        elif outcome.result == "rejected":
            reason = texts().text("reasons.rejected", error=outcome.error)
            await claims.finish(job.delivery_id, "gave_up", report, outcome=outcome, reason=reason)
        elif outcome.result == "unknown":
            reason = texts().text("reasons.unanswered", error=outcome.error)
            await claims.finish(job.delivery_id, "gave_up", report, outcome=outcome, reason=reason)
        elif outcome.result == "gone":
            reason = texts().text("reasons.gone", status=outcome.status)
            await claims.finish(job.delivery_id, "gave_up", report, outcome=outcome, reason=reason)
            if claims.sqlite_writes is not None:
                async with claims.sqlite_writes:
                    ended = await self._forums.end_subscriptions_of(job.ref_id, reason)
            else:
                ended = await self._forums.end_subscriptions_of(job.ref_id, reason)
            report.ended_subscriptions += ended  # not `+= await`: other jobs update it meanwhile
            if claims.sqlite_writes is not None and self._forget == claims.delete_reference:
                await self._forget(job.ref_id)  # takes the write queue itself
            elif claims.sqlite_writes is not None:
                async with claims.sqlite_writes:
                    await self._forget(job.ref_id)
            else:
                await self._forget(job.ref_id)
            log.info("conversation ref %s removed after HTTP %s", job.ref_id, outcome.status)
        # 'aborted': _begin_attempt has already recorded why.

    def _default_render(
        self, forum: Forum, occurrence: Occurrence, offset: str, scope: str
    ) -> tuple[dict[str, Any], str]:
        from forums.card import reminder_message  # its wording: forums/texts.sv.yaml

        return reminder_message(forum, occurrence, scope=scope, public_url=self._public_url)
