"""Triage: the first page of `GET /api/v1/reports` with `--reports` reports in PostgreSQL
(the performance issue, item 1: p95 under 50 ms at 100,000), and the seeding rate.

A fresh PostgreSQL database (`somos init`), one focal point covering every seeded
department (so every report is in their queue), `somos demo seed --reports N --seed 42`
timed (wall, and the CPU of the `somos` process), then `somos serve`: the focal point signs
in and asks for the first page (the default 50, newest replies, most urgent, oldest first)
`--requests` times after a warm-up, timed in this process over loopback HTTP.

    PYTHONPATH=. .venv/bin/python bench/triage.py --reports 100000
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from api.settings import Settings
from bench.common import emit, free_port, installation, serve, summary_ms
from tests.support.databases import create_database, drop_database
from tests.support.harness import FOCAL_PASSWORD
from tests.support.totp import fresh_code


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(reports: int, requests: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-triage-") as tmp:
        root = Path(tmp)
        database = asyncio.run(create_database("postgresql", root))
        try:
            somos = installation(root, database.url)
            departments = [arg for code in Settings().covered_departments
                           for arg in ("--department", code)]
            totp = somos.add_user("triage", "--role", "focal_point", *departments,
                                  password=FOCAL_PASSWORD)
            cpu_before, began = children_cpu(), time.monotonic()
            somos.run("demo", "seed", "--reports", str(reports), "--seed", "42", timeout=3600)
            seed_wall, seed_cpu = time.monotonic() - began, children_cpu() - cpu_before
            server = serve(somos, root / "serve.log", free_port())
            try:
                with httpx.Client(base_url=server.base_url, timeout=30) as client:
                    token = client.post("/api/v1/auth/token", data={
                        "username": "triage", "password": FOCAL_PASSWORD,
                        "otp": fresh_code(totp)}).json()["access_token"]
                    client.headers["Authorization"] = f"Bearer {token}"
                    first = client.get("/api/v1/reports")
                    first.raise_for_status()
                    shown = len(first.json()["items"])
                    for _ in range(10):
                        client.get("/api/v1/reports").raise_for_status()
                    timings = []
                    for _ in range(requests):
                        started = time.perf_counter()
                        client.get("/api/v1/reports").raise_for_status()
                        timings.append(time.perf_counter() - started)
            finally:
                server.stop()
        finally:
            asyncio.run(drop_database(database))
    return {"backend": "postgresql", "reports": reports, "page_items": shown,
            "first_page": summary_ms(timings), "target_p95_ms": 50,
            "seed": {"reports": reports, "wall_s": round(seed_wall, 1),
                     "cpu_s": round(seed_cpu, 1),
                     "reports_per_s_wall": round(reports / seed_wall),
                     "reports_per_s_cpu": round(reports / seed_cpu) if seed_cpu else None}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    emit(run(args.reports, args.requests))


if __name__ == "__main__":
    main()
