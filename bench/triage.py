"""Triage: the first page of `GET /api/v1/reports` with `--reports` reports in PostgreSQL
(the performance issue, item 1: p95 under 50 ms at 100,000), and the seeding rate.

A fresh PostgreSQL database (`somos init`), one focal point covering every seeded
department (so every report is in their queue), `somos demo seed --reports N --seed 42`
timed (wall, and the CPU of the `somos` process), then `somos serve`: the focal point signs
in and asks for the first page (the default 50, newest replies, most urgent, oldest first)
`--requests` times after a warm-up, timed in this process over loopback HTTP.

With `--seeded N` below `--reports`, only N reports go through `somos demo seed` (the
seeding rate is theirs) and the rest are copies of them made in SQL: new ids, the same
routing, urgency, status, hour and sealed payload and keys. The queue page reads only
those plain columns and the caller's wrapped-key rows, never a payload, so it sees
`--reports` reports; the copies spare the seeder's HPKE and Argon2 work on a 2-core machine.

    PYTHONPATH=. .venv/bin/python bench/triage.py --reports 100000 --seeded 20000
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy.engine import make_url

from api.settings import Settings
from bench.common import emit, free_port, installation, serve, summary_ms
from tests.support.databases import create_database, drop_database
from tests.support.harness import FOCAL_PASSWORD
from tests.support.totp import fresh_code


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def clone(database_url: str, reports: int) -> int:
    """Copies the seeded reports (and their wrapped keys) in SQL until there are `reports`;
    returns how many were copied."""
    url = make_url(database_url)
    db = await asyncpg.connect(host=url.host, port=url.port, user=url.username,
                               database=url.database)
    try:
        seeded = int(await db.fetchval("SELECT count(*) FROM reports"))
        copies = -(-reports // seeded) - 1
        columns = {}
        for table in ("reports", "report_keys"):
            columns[table] = [row["column_name"] for row in await db.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
                "ORDER BY ordinal_position", table)]
        fresh = "md5({column} || ':' || k)::uuid::text"
        for table, renamed in (("reports", ("id",)), ("report_keys", ("id", "report_id"))):
            names = ", ".join(columns[table])
            values = ", ".join(fresh.format(column=c) if c in renamed else c
                               for c in columns[table])
            await db.execute(
                f"INSERT INTO {table} ({names}) SELECT {values} FROM {table}, "  # noqa: S608
                f"generate_series(1, {copies}) AS k")
        extra = seeded * (copies + 1) - reports
        if extra > 0:  # back to exactly `reports` (keys go with their report)
            await db.execute(
                "DELETE FROM reports WHERE id IN (SELECT id FROM reports ORDER BY id LIMIT $1)",
                extra)
        await db.execute("ANALYZE")
        return int(await db.fetchval("SELECT count(*) FROM reports")) - seeded
    finally:
        await db.close()


def run(reports: int, requests: int, seeded: int | None = None) -> dict[str, Any]:
    seeded = min(seeded or reports, reports)
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
            somos.run("demo", "seed", "--reports", str(seeded), "--seed", "42", timeout=3600)
            seed_wall, seed_cpu = time.monotonic() - began, children_cpu() - cpu_before
            copied = asyncio.run(clone(database.url, reports)) if seeded < reports else 0
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
    return {"backend": "postgresql", "reports": seeded + copied, "copied": copied,
            "page_items": shown, "first_page": summary_ms(timings), "target_p95_ms": 50,
            "seed": {"reports": seeded, "wall_s": round(seed_wall, 1),
                     "cpu_s": round(seed_cpu, 1),
                     "reports_per_s_wall": round(seeded / seed_wall),
                     "reports_per_s_cpu": round(seeded / seed_cpu) if seed_cpu else None}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seeded", type=int, help="seed only this many; copy the rest in SQL")
    args = parser.parse_args()
    emit(run(args.reports, args.requests, args.seeded))


if __name__ == "__main__":
    main()
