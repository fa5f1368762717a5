"""Start-up of the whole server (issue 15 target: a server starts in ≤ 1.5 s when nothing
changed, with ≤ 250 MB resident after start).

    python benchmarks/startup.py [--root DIR ...] [--runs N]

For each code root (default: this checkout; give an old checkout, e.g. `git archive` of an
earlier commit unpacked in /tmp, to compare in the same run) the real server (`python -m bot`,
what `samverkan serve` runs) is started as a new process on SQLite in a temporary folder, and
the time from the process start to the first 200 from `/healthz` is measured:

- cold: an empty cache folder (SAMVERKAN_CACHE_DIR) and a new database: everything is built;
- warm, new database: the cache filled by an earlier start, a new database (migrated at start):
  what every test server does;
- warm: the cache and the database of an earlier start: a server restarted with nothing changed.

The code is byte-compiled first (as an installed package is).

Once it answers, the CPU time the server has used (user + system; on a busy machine the wall
time is longer, the CPU time is not) and its resident set size (VmRSS) are read. Each figure is
given as the best and the median of `--runs` starts (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(
    root: Path, cache: Path, db: Path, timeout: float = 300.0
) -> tuple[float, float, float]:
    """Seconds from process start to /healthz 200, the CPU seconds the server had used by then
    (user + system: what the start costs whatever else the machine is doing), and its resident
    MB then."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "PYTHONPATH": str(root),
        "SAMVERKAN_DATABASE_URL": f"sqlite:///{db}",
        "SAMVERKAN_CACHE_DIR": str(cache),
        "SAMVERKAN_LOG_LEVEL": "WARNING",
    }
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--host", "127.0.0.1", "--port", str(port)],
        cwd=db.parent,  # no .env of a checkout is read
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "exited")
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError(f"{root}: no /healthz within {timeout} s")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.01)
        elapsed = time.perf_counter() - t0
        stat = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        status = Path(f"/proc/{proc.pid}/status").read_text()
        rss = int(status.split("VmRSS:")[1].split()[0]) / 1024
        return elapsed, cpu, rss
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def compile_code(root: Path) -> None:
    """Byte-compile the checkout's code, as an installed package is (an environment with
    PYTHONDONTWRITEBYTECODE would otherwise compile it from source at every start, ~0.2 s)."""
    packages = [str(p) for p in root.iterdir() if (p / "__init__.py").exists()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True)


def measure(root: Path, runs: int) -> dict[str, list[tuple[float, float, float]]]:
    compile_code(root)
    out: dict[str, list[tuple[float, float, float]]] = {
        "cold": [],
        "warm, new database": [],
        "warm": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for i in range(runs):  # cold: a cache folder of its own each time
            out["cold"].append(start(root, base / f"cold-{i}", base / f"cold-{i}.sqlite3"))
        cache = base / "cold-0"
        for i in range(runs):
            out["warm, new database"].append(start(root, cache, base / f"new-{i}.sqlite3"))
        for _ in range(runs):
            out["warm"].append(start(root, cache, base / "cold-0.sqlite3"))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--root", type=Path, action="append", help="code root(s) to measure")
    p.add_argument("--runs", type=int, default=3, help="starts per kind (default 3)")
    args = p.parse_args(argv)
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at the start")
    for root in args.root or [ROOT]:
        for kind, results in measure(root.resolve(), args.runs).items():
            times = sorted(t for t, _c, _r in results)
            cpu = sorted(c for _t, c, _r in results)
            rss = max(r for _t, _c, r in results)
            print(
                f"{root}: {kind}: best {times[0]:.2f} s, median {statistics.median(times):.2f} s "
                f"({', '.join(f'{t:.2f}' for t in times)}); CPU best {cpu[0]:.2f} s, median "
                f"{statistics.median(cpu):.2f} s; RSS ≤ {rss:.0f} MB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
