"""The product as installed from its wheel, without the repository (issue 14): the knowledge base
carries its rules, their dated cases and the situation data, so `samverkan kb check` on the
shipped knowledge base passes with no tests/ folder anywhere near."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_kb_check_passes_from_the_installed_wheel(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("samverkansboten-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir)  # without its own pip (3 s): this environment's pip installs into it
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
         str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # The dependencies come from this environment's site-packages (PYTHONPATH does not run its
    # .pth files, so the editable install of the repository stays out).
    deps = os.pathsep.join(site.getsitepackages())
    env = {**os.environ, "PYTHONPATH": deps, "SAMVERKAN_DATABASE_URL": "sqlite:///x.sqlite3"}
    env.pop("SAMVERKAN_KB_DIR", None)
    where = subprocess.run(
        [str(python), "-c", "import knowledge; print(knowledge.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    ).stdout
    assert str(env_dir) in where, where  # the wheel's copy, not the repository's
    proc = subprocess.run(
        [str(python), "-m", "cli.main", "kb", "check"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Kunskapsbasen är giltig" in proc.stdout
    assert "reglerna" in proc.stdout and "igenkänningen av oro" in proc.stdout
