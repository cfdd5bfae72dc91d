"""Sustained throughput through gunicorn, next to a bare Django view on the same machine.

gunicorn is started the way the product is served (``deskpilot.wsgi``, 2 workers with 4 threads
each) on a free port of 127.0.0.1 only, and driven by 8 client threads, each with its own
keep-alive ``http.client`` connection, for a fixed time per endpoint: the ticket list (status +
team filter), the ticket detail (20 messages) and ``/healthz`` (a plain Django view behind the
same middleware). Requests completed during a short warm-up are not counted. The ratio
API / healthz says how much of the framework's own ceiling the API keeps.

The load generator runs on the same machine as the server and competes with it for the CPUs,
as a real client on the same host would; its CPU time is reported next to the server's.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import GUNICORN, REPO, BenchDatabase, summarize_ms

HOST = "127.0.0.1"
CLIENTS = 8
WORKERS = 2
THREADS = 4


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the given processes, from /proc (Linux); 0 where unreadable."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Server:
    """gunicorn in its own process group, stopped (TERM, then KILL) however the run ends."""

    def __init__(self, db: BenchDatabase, log: Path) -> None:
        self.db = db
        self.port = free_port()
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        command = [
            GUNICORN,
            "deskpilot.wsgi",
            "-w",
            str(WORKERS),
            "--threads",
            str(THREADS),
            "-b",
            f"{HOST}:{self.port}",
            "--log-level",
            "warning",
        ]
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=REPO, env=self.db.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                status, _ = get_once(self.port, "/healthz", {})
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer on {HOST}:{self.port} within 60 s; see {self.log_path}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pids(self) -> list[int]:
        return [] if self.process is None else [self.process.pid, *_children(self.process.pid)]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def get_once(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class _Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    bad_status: int = 0


def _client(
    port: int, paths: list[str], offset: int, headers: dict[str, str], start: float, count_from: float, end: float
) -> _Tally:
    tally = _Tally()
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    i = offset
    while time.monotonic() < start:
        time.sleep(0.001)
    while True:
        now = time.monotonic()
        if now >= end:
            break
        path = paths[i % len(paths)]
        i += 1
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            tally.errors += 1
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=10)
            continue
        done = time.monotonic()
        if now >= count_from and done <= end:
            if status >= 300:
                tally.bad_status += 1
            else:
                tally.latencies_ms.append((done - now) * 1000)
    conn.close()
    return tally


def drive(
    server: Server, paths: list[str], headers: dict[str, str], *, duration: float, warmup: float
) -> dict[str, Any]:
    """CLIENTS threads request ``paths`` round-robin for warmup + duration seconds."""
    tallies = [_Tally() for _ in range(CLIENTS)]
    start = time.monotonic() + 0.2
    count_from = start + warmup
    end = count_from + duration

    def run(index: int) -> None:
        tallies[index] = _client(server.port, paths, index * 7, headers, start, count_from, end)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    while time.monotonic() < count_from:
        time.sleep(0.01)
    server_cpu_before, client_cpu_before = _cpu_seconds(server.pids()), time.process_time()
    for thread in threads:
        thread.join(timeout=warmup + duration + 30)
    server_cpu, client_cpu = _cpu_seconds(server.pids()) - server_cpu_before, time.process_time() - client_cpu_before
    latencies = [ms for t in tallies for ms in t.latencies_ms]
    return {
        "requests": len(latencies),
        "seconds": duration,
        "rps": len(latencies) / duration,
        "errors": sum(t.errors for t in tallies),
        "non_2xx": sum(t.bad_status for t in tallies),
        "latency_ms": summarize_ms(latencies),
        "server_cpu_seconds": round(server_cpu, 2),
        "client_cpu_seconds": round(client_cpu, 2),
    }


def endpoint_paths(fixtures: dict[str, Any]) -> dict[str, list[str]]:
    lists = [
        "/api/v1/tickets?" + urlencode({"status": status, "team": team})
        for status in fixtures["statuses"]
        for team in fixtures["team_ids"]
    ]
    details = [f"/api/v1/tickets/{pk}" for pk in fixtures["detail_ids"]]
    return {"list": lists, "detail": details, "healthz": ["/healthz"]}


def run(db: BenchDatabase, fixtures: dict[str, Any], *, duration: float, warmup: float, log: Path) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {fixtures['token']}", "Connection": "keep-alive"}
    results: dict[str, Any] = {
        "workers": WORKERS,
        "threads": THREADS,
        "clients": CLIENTS,
        "duration_seconds": duration,
        "warmup_seconds": warmup,
    }
    with Server(db, log) as server:
        for name, paths in endpoint_paths(fixtures).items():
            print(f"  {name}: {CLIENTS} clients for {warmup:g} + {duration:g} s", flush=True)
            load_before = os.getloadavg()[0]
            result = drive(server, paths, headers if name != "healthz" else {}, duration=duration, warmup=warmup)
            result["loadavg_1m_before"] = round(load_before, 2)
            results[name] = result
            print(
                f"    {result['rps']:8.1f} req/s  p50 {result['latency_ms']['p50']:.1f} ms  "
                f"p95 {result['latency_ms']['p95']:.1f} ms  errors {result['errors']}  non-2xx {result['non_2xx']}",
                flush=True,
            )
    for name in ("list", "detail"):
        if results["healthz"]["rps"]:
            results[name]["ratio_to_healthz"] = results[name]["rps"] / results["healthz"]["rps"]
    return results
