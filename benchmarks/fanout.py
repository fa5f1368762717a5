"""Proactive fan-out: one reminder card to each of 1,000 conversations through the real path
(Sender → BotConnectorTransport → CloudAdapter.continue_conversation → pooled aiohttp session)
to a fake Bot Connector in another process.

    python -m benchmarks.fanout [--conversations 1000] [--fail-every 0]

Reported twice: with Teams' limits on (about 50 requests/s per app and tenant; 7/s per
conversation) — the limit, not the code, should bound it — and with the limits lifted, which
shows what the code itself can do.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

from botbuilder.integration.aiohttp import CloudAdapter

from bot.auth import build_authentication
from bot.connector import CachingBotFrameworkAuthentication
from bot.proactive import BotConnectorTransport
from common.clock import SystemClock
from outbound.sender import GLOBAL, PER_CONVERSATION, RateLimit, Sender
from samverkan.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "Påminnelse: BUS individforum", "weight": "Bolder"},
        {"type": "TextBlock", "text": "tisdag 8 december kl. 13.00–14.30, rum 3", "wrap": True},
    ],
    "actions": [{"type": "Action.Submit", "title": "Stäng av påminnelser", "data": {"action": "x"}}],
}


def reference(i: int, service_url: str) -> dict[str, object]:
    return {
        "user": {"id": f"29:u{i}", "aadObjectId": f"u{i}"},
        "bot": {"id": "28:bot", "name": "Samverkansboten"},
        "conversation": {"id": f"a:fan-{i}", "conversationType": "personal", "tenantId": "t"},
        "channelId": "msteams",
        "serviceUrl": service_url,
    }


async def run(n: int, service_url: str, limits: bool) -> tuple[float, int]:
    auth = CachingBotFrameworkAuthentication(build_authentication(Settings(_env_file=None)))  # type: ignore[call-arg]
    adapter = CloudAdapter(auth)
    transport = BotConnectorTransport(adapter, "")
    sender = Sender(
        transport,
        SystemClock(),
        asyncio.sleep,
        per_conversation=PER_CONVERSATION if limits else (RateLimit(10_000, 1.0),),
        global_limits=GLOBAL if limits else (RateLimit(100_000, 1.0),),
    )
    gate = asyncio.Semaphore(64)
    sent = 0

    async def one(i: int) -> None:
        nonlocal sent
        async with gate:
            outcome = await sender.send(f"fan-{i}", reference(i, service_url), CARD, "Påminnelse")
            if outcome.result == "sent":
                sent += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - t0
    await auth.cache.close()
    return n / elapsed, sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--fail-every", type=int, default=0, help="fake connector: every n-th send gets 429")
    args = parser.parse_args(argv)
    connector = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fake_connector", "--port", "0", "--fail-every", str(args.fail_every)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert connector.stdout is not None
        url = f"http://127.0.0.1:{connector.stdout.readline().strip()}/"
        for limits in (True, False):
            rate, sent = asyncio.run(run(args.conversations, url, limits))
            label = "limits on (50/s global, 7/s per conversation)" if limits else "limits lifted"
            print(f"{label:48s} {rate:8.1f} reminders/s   delivered {sent}/{args.conversations}")
    finally:
        connector.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
