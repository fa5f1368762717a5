"""Speed, start-up and memory of search (issue 15 targets: search p50 ≤ 2 ms and p95 ≤ 5 ms per
question; a start with a cached index ≤ 1.5 s; resident memory after start ≤ 250 MB).

    python benchmarks/search_speed.py [--root DIR ...]

For each code root (default: this checkout; give an old checkout, e.g. `git archive` of an
earlier commit unpacked in /tmp, to compare in the same run), in fresh processes:

- build: the index built from the knowledge base (no cache);
- start: a new process that imports search, loads the knowledge base and the index from a
  warm cache (what a server does at start when nothing changed), in seconds from process start;
- memory: the resident set size of that process after the start (MB);
- search: ms per question over the dev, held-out, tuning and blind2 sets (p50, p95, max),
  after one warm-up pass.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_PROBE = r"""
import json, os, statistics, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from datetime import date
from pathlib import Path
from knowledge.loader import load
from knowledge.search import SearchIndex
mode = {mode!r}
kb = load(None)
if mode == "build":
    t = time.perf_counter(); SearchIndex.build(kb); print(json.dumps({{"build_s": time.perf_counter() - t}}))
    raise SystemExit
index = SearchIndex.load_or_build(kb, Path({cache!r}))
start = time.perf_counter() - t0
rss = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
out = {{"start_s": start, "rss_mb": rss}}
if mode == "search":
    import yaml
    qs = []
    for f in {files!r}:
        qs += [x if isinstance(x, str) else x["q"] for x in yaml.safe_load(open(f))["questions"]]
    day = date(2026, 12, 7)
    for q in qs:
        index.search(q, day=day)
    ts = []
    for q in qs:
        t = time.perf_counter(); index.search(q, day=day); ts.append((time.perf_counter() - t) * 1000)
    ts.sort()
    out.update(n=len(ts), p50=ts[len(ts) // 2], p95=ts[int(0.95 * (len(ts) - 1))], max=ts[-1])
print(json.dumps(out))
"""

FILES = [
    str(ROOT.parent / "shared" / "eval" / "questions.yaml"),
    str(ROOT / "benchmarks" / "heldout.yaml"),
    str(ROOT / "knowledge" / "data" / "questions" / "tuning.yaml"),
    str(ROOT / "knowledge" / "data" / "questions" / "blind2.yaml"),
]


def probe(root: Path, mode: str, cache: str) -> dict[str, float]:
    code = _PROBE.format(root=str(root), mode=mode, cache=cache, files=FILES)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--root", type=Path, action="append", help="code root(s) to measure")
    args = p.parse_args(argv)
    for root in args.root or [ROOT]:
        with tempfile.TemporaryDirectory() as cache:
            build = probe(root, "build", cache)
            probe(root, "start", cache)  # fills the cache
            start = min((probe(root, "start", cache) for _ in range(3)), key=lambda r: r["start_s"])
            search = probe(root, "search", cache)
        print(
            f"{root}: build {build['build_s']:.1f} s; start with cache {start['start_s']:.2f} s, "
            f"{start['rss_mb']:.0f} MB; search p50 {search['p50']:.2f} ms, p95 "
            f"{search['p95']:.2f} ms, max {search['max']:.2f} ms ({search['n']:.0f} questions)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
