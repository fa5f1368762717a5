"""Samverkansboten against a bare botbuilder echo bot, on loopback, with Teams-shaped traffic.

    python -m benchmarks.turns [--quick] [--no-postgres] [--json results.json]

Starts, in this run: a fake Bot Connector service, the bare echo bot (benchmarks/echo_bot.py) and
the served bot (`python -m bot`) on SQLite and on PostgreSQL, each as its own process. For each
scenario — a greeting, a knowledge-base question, one step of a guided dialog — it reports:

- sequential per-turn latency p50/p95/p99 (one user, one turn at a time);
- p99 at an open-loop offered load of 20 turns/s from 25 users (requests leave on schedule,
  whether or not earlier ones have finished);
- saturation throughput (closed loop, many users, turns/s);

and each ratio to the echo bot. Also: start-up time, resident memory before/after 10,000 turns,
and scale-out: saturation of one PostgreSQL instance, then of two on the same database with every
user's turns going round-robin over both.
A turn is measured from the POST to its HTTP response; both bots send their reply to the
connector before they answer the POST, so the reply's delivery is inside the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = [
    "Måste jag berätta för föräldrarna att jag anmäler?",
    "kan jag va anonym",
    "vem har anmälningsplikt i förskolan",
    "Vad händer efter en orosanmälan?",
    "får soc berätta vad som hänt efter min anmälan",
    "vad är BUS",
    "eleven bor i en annan kommun, vart skickar jag anmälan",
    "hur snabbt måste jag anmäla",
]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Proc:
    name: str
    cmd: list[str]
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    startup_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, workdir: Path) -> None:
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
        t0 = time.perf_counter()
        log = (workdir / f"{self.name}.log").open("wb")
        self.proc = subprocess.Popen(
            [*self.cmd, "--port", str(self.port)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        async with aiohttp.ClientSession() as http:
            for _ in range(1200):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited: see {workdir / (self.name + '.log')}")
                try:
                    async with http.get(f"{self.url}/healthz") as r:
                        if r.status == 200:
                            self.startup_s = time.perf_counter() - t0
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise TimeoutError(self.name)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(20)


class Traffic:
    """Teams-shaped activities for one target; each user has its own personal conversation."""

    def __init__(self, target: str | list[str], service_url: str, run: str) -> None:
        # Several targets: turns go round-robin over them, as behind a load balancer without
        # sticky sessions (one user's consecutive turns land on different instances).
        self.urls = [f"{t}/api/messages" for t in ([target] if isinstance(target, str) else target)]
        self.service_url = service_url
        self.run = run
        self.seq = 0

    def activity(self, user: int, text: str) -> dict[str, Any]:
        self.seq += 1
        return {
            "type": "message",
            "id": f"a{self.seq}",
            "channelId": "msteams",
            "text": text,
            "serviceUrl": self.service_url,
            "locale": "sv-SE",
            "from": {
                "id": f"29:{self.run}-u{user}",
                "aadObjectId": f"{self.run}-u{user}",
                "name": "Lärare",
            },
            "recipient": {"id": "28:bot", "name": "Samverkansboten"},
            "conversation": {
                "id": f"a:{self.run}-c{user}",
                "conversationType": "personal",
                "tenantId": "t",
            },
            "channelData": {"tenant": {"id": "t"}},
        }

    async def turn(self, http: aiohttp.ClientSession, user: int, text: str) -> float:
        body = self.activity(user, text)
        url = self.urls[self.seq % len(self.urls)]
        t0 = time.perf_counter()
        async with http.post(url, json=body) as r:
            await r.read()
            if r.status >= 300:
                raise RuntimeError(f"HTTP {r.status}")
        return (time.perf_counter() - t0) * 1000


class Scenario:
    """What one user says turn after turn in a scenario (setup turns are not measured)."""

    name = ""

    def setup(self, user: int) -> list[str]:
        return []

    def text(self, user: int, n: int) -> str:
        raise NotImplementedError


class Greeting(Scenario):
    name = "greeting"

    def text(self, user: int, n: int) -> str:
        return "hej"


class Question(Scenario):
    name = "kb-question"

    def text(self, user: int, n: int) -> str:
        return QUESTIONS[(user + n) % len(QUESTIONS)]


class DialogStep(Scenario):
    """Inside "Jag är orolig för ett barn": answer the first question, go back, and again."""

    name = "dialog-step"

    def setup(self, user: int) -> list[str]:
        return ["Jag är orolig för ett barn"]

    def text(self, user: int, n: int) -> str:
        return "nej" if n % 2 == 0 else "tillbaka"


SCENARIOS: list[Scenario] = [Greeting(), Question(), DialogStep()]


async def sequential(traffic: Traffic, sc: Scenario, turns: int) -> list[float]:
    async with aiohttp.ClientSession() as http:
        for t in sc.setup(0):
            await traffic.turn(http, 0, t)
        for n in range(min(20, turns)):  # warm-up
            await traffic.turn(http, 0, sc.text(0, n))
        return [await traffic.turn(http, 0, sc.text(0, n)) for n in range(turns)]


async def open_loop(
    traffic: Traffic, sc: Scenario, rate: float, users: int, seconds: float
) -> tuple[list[float], int]:
    lat: list[float] = []
    errors = 0
    counters = [0] * users
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        for u in range(1, users + 1):
            for t in sc.setup(u):
                await traffic.turn(http, u, t)

        async def one(u: int) -> None:
            nonlocal errors
            n = counters[u - 1]
            counters[u - 1] += 1
            try:
                lat.append(await traffic.turn(http, u, sc.text(u, n)))
            except Exception:
                errors += 1

        tasks = []
        start = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(1 + i % users)))
        await asyncio.gather(*tasks)
    return lat, errors


async def saturation(traffic: Traffic, sc: Scenario, users: int, seconds: float) -> float:
    done = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        base = 1000
        for u in range(base, base + users):
            for t in sc.setup(u):
                await traffic.turn(http, u, t)
        stop = time.perf_counter() + seconds

        async def user(u: int) -> None:
            nonlocal done
            n = 0
            while time.perf_counter() < stop:
                await traffic.turn(http, u, sc.text(u, n))
                n += 1
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(user(u) for u in range(base, base + users)))
        return done / (time.perf_counter() - t0)


async def memory_run(target: Proc, traffic: Traffic, turns: int) -> tuple[float, float, float]:
    assert target.proc is not None
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def batch(start: int, count: int) -> None:
            sem = asyncio.Semaphore(16)

            async def one(i: int) -> None:
                async with sem:
                    await traffic.turn(http, 5000 + i % 200, QUESTIONS[i % len(QUESTIONS)])

            await asyncio.gather(*(one(i) for i in range(start, start + count)))

        await batch(0, 1000)  # warm: caches, pools, every user's state
        before = rss_mb(target.proc.pid)
        await batch(1000, turns // 2)
        middle = rss_mb(target.proc.pid)
        await batch(1000 + turns // 2, turns // 2)
        after = rss_mb(target.proc.pid)
    return before, middle, after


async def scale_out(
    first: Proc, second: Proc, workdir: Path, service_url: str, seconds: float
) -> dict[str, Any]:
    """Saturation with one instance, then with two on the same PostgreSQL database, the turns
    of every user going round-robin over both (no sticky sessions)."""
    out: dict[str, Any] = {}
    await second.start(workdir)
    try:
        for sc in (Question(), DialogStep()):
            one = await saturation(
                Traffic(first.url, service_url, f"so1-{sc.name}-{uuid.uuid4().hex[:6]}"),
                sc,
                32,
                seconds,
            )
            two = await saturation(
                Traffic(
                    [first.url, second.url], service_url, f"so2-{sc.name}-{uuid.uuid4().hex[:6]}"
                ),
                sc,
                32,
                seconds,
            )
            out[sc.name] = {"one_tps": round(one, 1), "two_tps": round(two, 1)}
            print(
                f"scale-out (PostgreSQL) {sc.name:12s} one instance {one:7.1f}/s   "
                f"two instances, round-robin {two:7.1f}/s   ×{two / one:.2f}",
                flush=True,
            )
    finally:
        second.stop()
    return out


async def make_pg_database(admin_url: str) -> str:
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    u = make_url(admin_url)
    name = f"samverkan_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, database=u.database
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return u.set(database=name).render_as_string(hide_password=False)


def fmt(x: float) -> str:
    return f"{x:8.2f}"


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.workdir or ROOT / ".tmp" / f"bench-{int(time.time())}")
    workdir.mkdir(parents=True, exist_ok=True)
    connector = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fake_connector", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert connector.stdout is not None
    service_url = f"http://127.0.0.1:{connector.stdout.readline().strip()}/"

    targets: list[Proc] = [Proc("echo", [sys.executable, "-m", "benchmarks.echo_bot"], {})]
    db_sqlite = workdir / "bench.sqlite3"
    common = {"SAMVERKAN_LOG_LEVEL": "WARNING", "SAMVERKAN_SCHEDULER_ENABLED": "false"}
    targets.append(
        Proc(
            "samverkan-sqlite",
            [sys.executable, "-m", "bot"],
            {**common, "SAMVERKAN_DATABASE_URL": f"sqlite:///{db_sqlite}"},
        )
    )
    if not args.no_postgres:
        admin = (
            os.environ.get("SAMVERKAN_TEST_POSTGRES_URL")
            or subprocess.run(
                ["bash", str(ROOT / "scripts" / "pg-test-server.sh"), "start"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        pg_url = await make_pg_database(admin)
        targets.append(
            Proc(
                "samverkan-postgres",
                [sys.executable, "-m", "bot"],
                {**common, "SAMVERKAN_DATABASE_URL": pg_url},
            )
        )

    seq_turns = 60 if args.quick else 300
    open_s = 5.0 if args.quick else 15.0
    sat_s = 4.0 if args.quick else 10.0
    users = 25
    results: dict[str, Any] = {"machine": os.uname().machine, "cpus": os.cpu_count(), "targets": {}}
    try:
        for target in targets:
            await target.start(workdir)
            res: dict[str, Any] = {"startup_s": round(target.startup_s, 2)}
            for sc in SCENARIOS:
                traffic = Traffic(
                    target.url, service_url, f"{target.name}-{sc.name}-{uuid.uuid4().hex[:6]}"
                )
                lat = await sequential(traffic, sc, seq_turns)
                ol, errors = await open_loop(traffic, sc, 20.0, users, open_s)
                sat = await saturation(traffic, sc, 32, sat_s)
                res[sc.name] = {
                    "p50_ms": round(statistics.median(lat), 2),
                    "p95_ms": round(pct(lat, 95), 2),
                    "p99_ms": round(pct(lat, 99), 2),
                    "open_loop_p99_ms": round(pct(ol, 99), 2),
                    "open_loop_errors": errors,
                    "saturation_tps": round(sat, 1),
                }
                print(
                    f"{target.name:20s} {sc.name:12s} p50 {fmt(res[sc.name]['p50_ms'])} p95 {fmt(res[sc.name]['p95_ms'])} "
                    f"p99 {fmt(res[sc.name]['p99_ms'])}  open-loop p99 {fmt(res[sc.name]['open_loop_p99_ms'])}  "
                    f"saturation {res[sc.name]['saturation_tps']:7.1f}/s",
                    flush=True,
                )
            if target.name != "echo" and not args.quick:
                mem_traffic = Traffic(target.url, service_url, f"{target.name}-mem")
                before, middle, after = await memory_run(target, mem_traffic, 10_000)
                res["rss_mb"] = {
                    "after_warmup": round(before, 1),
                    "after_5k": round(middle, 1),
                    "after_10k": round(after, 1),
                }
                print(
                    f"{target.name:20s} RSS after warm-up {before:.1f} MB, +5,000 turns {middle:.1f} MB, +10,000 turns {after:.1f} MB",
                    flush=True,
                )
            if target.name == "samverkan-postgres":
                results["scale_out"] = await scale_out(
                    target,
                    Proc("samverkan-postgres-2", target.cmd, target.env),
                    workdir,
                    service_url,
                    sat_s,
                )
            target.stop()
            results["targets"][target.name] = res
    finally:
        for target in targets:
            if target.proc is not None and target.proc.poll() is None:
                target.stop()
        connector.terminate()

    echo = results["targets"]["echo"]
    print("\nRatios to the bare echo bot (p50: lower is better; throughput: higher is better)")
    for name, res in results["targets"].items():
        if name == "echo":
            continue
        for sc in SCENARIOS:
            r = res[sc.name]
            e = echo[sc.name]
            print(
                f"  {name:20s} {sc.name:12s} p50 ×{r['p50_ms'] / e['p50_ms']:.2f}   "
                f"saturation ×{r['saturation_tps'] / e['saturation_tps']:.2f}   open-loop p99 {r['open_loop_p99_ms']:.1f} ms"
            )
        print(f"  {name:20s} start-up {res['startup_s']:.2f} s (echo {echo['startup_s']:.2f} s)")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="shorter runs, no memory run")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--workdir")
    args = parser.parse_args(argv)
    results = asyncio.run(main_async(args))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
