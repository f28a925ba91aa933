"""What the benches share: installations of `somos`, servers on a known port, /proc readings,
percentiles, and an in-process Bot API request for PTB (no network)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.harness import SOMOS, Server, Somos

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent


def code_env() -> dict[str, str]:
    """The environment that makes `somos` subprocesses run this checkout's code (the venv's
    `somos` is an editable install of another one; PYTHONPATH comes first)."""
    return {"PYTHONPATH": str(ROOT)}


def installation(root: Path, database_url: str | None = None, **env: str) -> Somos:
    """`somos init` in `root/data` (SQLite unless `database_url`), production key derivation."""
    data = root / "data"
    root.mkdir(parents=True, exist_ok=True)
    somos = Somos(data, database_url or f"sqlite:///{data / 'somos.db'}",
                  {"SOMOS_FAST_KDF": "0", **code_env(), **env})
    somos.run("init", timeout=600)
    return somos


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(somos: Somos, log_path: Path, port: int) -> Server:
    """`somos serve` on `port` (a webhook URL needs it in advance), once it answers /healthz."""
    log = log_path.open("wb")
    process = subprocess.Popen(
        [SOMOS, "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=somos.env(), cwd=somos.data_dir.parent,
    )
    log.close()
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"somos serve exited early:\n{server.log()}")
        try:
            if httpx.get(server.base_url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"somos serve did not answer /healthz:\n{server.log()}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + cutime + cstime) / CLOCK_TICKS


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak resident set) of a process, in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = round(int(value.split()[0]) / 1024, 1)
    return found


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def summary_ms(values: list[float]) -> dict[str, float]:
    """n, p50, p95, p99, max of durations in seconds, as milliseconds."""
    if not values:
        return {"n": 0}
    return {"n": len(values), **{name: round(percentile(values, q) * 1000, 1) for name, q in
                                 (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))}}


def emit(result: dict[str, Any]) -> None:
    """The bench's result, as the last line of its output (bench/run.py reads it)."""
    sys.stdout.flush()
    print(json.dumps(result, ensure_ascii=False))


