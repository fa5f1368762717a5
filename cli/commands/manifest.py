"""`samverkan manifest build`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli import texts
from samverkan.manifest import ManifestError, build_package
from samverkan.settings import Settings


def build(args: argparse.Namespace) -> int:
    try:
        path, warnings = build_package(Settings(), Path(args.out))
    except ManifestError as exc:
        print(texts().text("manifest.failed"), file=sys.stderr)
        for p in exc.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    for w in warnings:
        print(texts().text("manifest.warning", warning=w), file=sys.stderr)
    print(texts().text("manifest.written", path=path))
    return 0
