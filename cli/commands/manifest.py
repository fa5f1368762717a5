"""`samverkan manifest build`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from samverkan.manifest import ManifestError, build_package
from samverkan.settings import Settings


def build(args: argparse.Namespace) -> int:
    try:
        path, warnings = build_package(Settings(), Path(args.out))
    except ManifestError as exc:
        print("Apppaketet kunde inte byggas:", file=sys.stderr)
        for p in exc.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    for w in warnings:
        print(f"Obs: {w}", file=sys.stderr)
    print(f"Skrev {path} (manifest.json, color.png, outline.png; validerat mot schemat 1.22).")
    return 0
