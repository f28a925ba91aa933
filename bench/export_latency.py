"""Export latency against the number of stored reports (the aggregates issue, acceptance 4).

Aggregates read rollups, never reports, so the time to produce an export should be
flat in the number of reports. This measures it on SQLite installations seeded with
`somos demo seed`:

    .venv/bin/python bench/export_latency.py \
        --data-dir /tmp/bench3000/data --data-dir /tmp/bench50000/data

Each data dir is an installation (`somos init` then `somos demo seed --reports N`).
Prints one JSON line per installation and grouping: median and p90 of 15 runs, taken in
turns across the installations, with the median of the read alone (`count_reports`: what
grows with the rollup rows) and how many rows the rollup table it reads holds.
Not part of `make test`: timings belong here, never in pass/fail tests.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from api.aggregates import closed, published, to_csv, to_json
from storage.aggregates import Query, count_reports, grain_for
from storage.models import Report, utcnow
from storage.store import Store, open_store

GROUPINGS = (("municipality", "category"), ("department", "month"), ("municipality",))
RUNS = 15


async def side_by_side(data_dirs: list[Path]) -> list[list[dict[str, Any]]]:
    """Every grouping and profile on each installation, the runs taking turns between them
    (one export on each, then again), so the machine's changing speed falls on every size
    alike and the ratio between them compares the sizes, not the minutes they were run in."""
    stores = [open_store(database_url=f"sqlite:///{data_dir / 'somos.db'}",
                         key_file=data_dir / "somos-keys.json") for data_dir in data_dirs]
    results: list[list[dict[str, Any]]] = [[] for _ in stores]
    try:
        counts = []
        for store in stores:
            async with store.transaction() as session:
                counts.append((await session.exec(select(func.count()).select_from(Report))).one())
        gc.freeze()  # as `somos serve` does once it has started (api/app.py)
        for group_by in GROUPINGS:
            table = grain_for(closed(Query(group_by=group_by), utcnow())).table
            held = []
            for store in stores:
                async with store.transaction() as session:
                    held.append((await session.exec(
                        select(func.count()).select_from(table))).one())
            for profile in ("analyst", "public"):
                timings: list[list[tuple[float, float]]] = [[] for _ in stores]
                for _ in range(RUNS):
                    for store, taken in zip(stores, timings, strict=True):
                        taken.append(await _one_export(store, group_by, profile))
                for reports, rows, taken, into in zip(counts, held, timings, results,
                                                      strict=True):
                    totals = sorted(total for total, _ in taken)
                    into.append({
                        "reports": reports, "group_by": ",".join(group_by), "profile": profile,
                        "median_ms": round(statistics.median(totals) * 1000, 1),
                        "p90_ms": round(totals[int(len(totals) * 0.9) - 1] * 1000, 1),
                        "read_median_ms": round(
                            statistics.median(read for _, read in taken) * 1000, 1),
                        "read_table": table.name, "read_table_rows": rows,
                    })
    finally:
        for store in stores:
            await store.close()
    return results


async def _one_export(store: Store, group_by: tuple[str, ...], profile: str,
                      ) -> tuple[float, float]:
    """Seconds for one export as the API makes it (`api.aggregates.protected_table`'s two
    halves, then CSV with HXL and JSON), and of its read alone."""
    started = time.perf_counter()
    query = closed(Query(group_by=group_by), utcnow())
    async with store.transaction() as session:
        counts = await count_reports(session=session, query=query, perturbed=True)
    read = time.perf_counter() - started
    protected = published(query, profile, 5, counts)
    to_csv(protected, hxl=True)
    to_json(protected)
    return time.perf_counter() - started, read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, action="append", required=True)
    args = parser.parse_args()
    for results in asyncio.run(side_by_side(args.data_dir)):
        for result in results:
            print(json.dumps(result))


if __name__ == "__main__":
    main()
