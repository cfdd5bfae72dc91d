"""The machine and the software versions a result was measured with."""

from __future__ import annotations

import os
import platform
import sqlite3
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.dataset import postgres_version


def _first(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        return None
    return None


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe() -> dict[str, Any]:
    mem_kb = _first("/proc/meminfo", "MemTotal")
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(int(mem_kb.split()[0]) / 1024 / 1024, 1) if mem_kb else None,
        "cpu_model": _first("/proc/cpuinfo", "model name") or platform.processor(),
        "cpu_mhz": _first("/proc/cpuinfo", "cpu MHz"),
        "os": _os_name(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(),
        "django": _version("django"),
        "django_ninja": _version("django-ninja"),
        "gunicorn": _version("gunicorn"),
        "psycopg": _version("psycopg"),
    }


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs together since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_busy(seconds: float = 2.0) -> float | None:
    """The share of all CPUs that was busy during the next ``seconds``, while the benchmark itself
    sits idle: how much other work the machine is doing. None where /proc/stat is unreadable."""
    try:
        busy0, total0 = _cpu_times()
        time.sleep(seconds)
        busy1, total1 = _cpu_times()
    except (OSError, ValueError, IndexError):
        return None
    return (busy1 - busy0) / max(total1 - total0, 1)


def wait_until_quiet(limit_seconds: float, *, threshold: float = 0.25) -> float | None:
    """Wait (at most ``limit_seconds``) until other work uses less than ``threshold`` of the
    CPUs; returns the last measured share. Every measurement on a shared machine is disturbed by
    what else runs on it, and this is the cheapest way to disturb it less."""
    deadline = time.monotonic() + limit_seconds
    busy = cpu_busy()
    while busy is not None and busy > threshold and time.monotonic() < deadline:
        print(f"  other work keeps {busy:.0%} of the CPUs busy; waiting for it to settle", flush=True)
        time.sleep(10)
        busy = cpu_busy()
    if busy is not None and busy > threshold:
        print(f"  measuring anyway with {busy:.0%} of the CPUs busy with other work", flush=True)
    return busy
