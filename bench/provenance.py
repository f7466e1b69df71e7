"""What a benchmark ran on and which streamtui it measured, for the printed record."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from pathlib import Path

import streamtui

__all__ = ["machine", "source_fingerprint"]


def machine() -> str:
    """CPU model, core count and Python, e.g. ``AMD EPYC, 2 cores; Python 3.11.7 (CPython)``."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()} "
        f"({platform.python_implementation()}) on {platform.system()}"
    )


def source_fingerprint() -> str:
    """Which streamtui is measured: git commit (+dirty) and a hash of its sources, so a
    change of code during a run shows in the record."""
    pkg = Path(streamtui.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(pkg.rglob("*.py")):
        digest.update(str(path.relative_to(pkg)).encode())
        digest.update(path.read_bytes())
    try:
        git = ["git", "-C", str(pkg)]
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "."], capture_output=True, text=True, check=True
        ).stdout.strip()
        where = f"git {commit}{'+uncommitted changes' if dirty else ''}, "
    except (OSError, subprocess.CalledProcessError):
        where = ""
    return f"{where}sources sha256 {digest.hexdigest()[:12]}"
