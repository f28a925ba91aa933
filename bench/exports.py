"""Exports and seeding: `bench/export_latency.py` on installations seeded here with
`somos demo seed` (timed: the seeding rate), and the default export against rollup tables
as full as 1,000,000 reports would leave them (the performance issue, item 1: under 300 ms).

The 1,000,000-report installation is not seeded (about half an hour here): it is a copy of
the largest seeded one whose rollup tables are replaced by rows written directly. Every
municipality × kind × category × month cell of the seeded months holds reports (at
1,000,000 reports over two years, about 3 per cell, every cell is filled), their counts
summing to `--million`, each with a random cell key and its perturbed value; the coarser
tables are the finest one's sums, as the report's transaction keeps them. Exports read
rollups only, never reports, so this is what they see at that size.

    PYTHONPATH=. .venv/bin/python bench/exports.py --sizes 3000,50000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from api.settings import Settings
from bench.common import emit, installation
from bench.export_latency import side_by_side
from flows.municipalities import Catalog
from storage.cellkey import KEY_SPACE, perturb

COARSER = {
    "rollups_department_month": ("department_code, kind, month", "month"),
    "rollups_department_category_month": ("department_code, kind, category, month", "month"),
    "rollups_municipality_year": ("municipality_code, kind, department_code, year",
                                  "substr(month, 1, 4)"),
    "rollups_municipality_category_year": (
        "municipality_code, kind, category, department_code, year", "substr(month, 1, 4)"),
}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def seeded(root: Path, reports: int) -> tuple[Path, dict[str, Any]]:
    somos = installation(root)
    cpu_before, began = children_cpu(), time.monotonic()
    somos.run("demo", "seed", "--reports", str(reports), "--seed", "42", timeout=3600)
    wall, cpu = time.monotonic() - began, children_cpu() - cpu_before
    return somos.data_dir, {"reports": reports, "backend": "sqlite", "wall_s": round(wall, 1),
                            "cpu_s": round(cpu, 1), "reports_per_s_wall": round(reports / wall),
                            "reports_per_s_cpu": round(reports / cpu) if cpu else None}


def fill_rollups(data_dir: Path, reports: int) -> dict[str, int]:
    """Replaces the rollup tables of `data_dir` with every cell filled, `reports` in all."""
    rng = random.Random(1_000_000)  # noqa: S311 - synthetic counts
    municipalities = [m.code for d in Settings().covered_departments
                      for m in Catalog.load(departments=(d,)).in_department(d)]
    with sqlite3.connect(data_dir / "somos.db") as db:
        pairs = db.execute("SELECT DISTINCT kind, category FROM rollups").fetchall()
        months = [row[0] for row in db.execute("SELECT DISTINCT month FROM rollups")]
        cells = [(code, kind, category, month) for code in municipalities
                 for kind, category in pairs for month in months]
        weights = [rng.random() for _ in cells]
        scale = reports / sum(weights)
        counts = [int(weight * scale) for weight in weights]
        for index in rng.sample(range(len(cells)), reports - sum(counts)):
            counts[index] += 1
        rows = []
        for (code, kind, category, month), count in zip(cells, counts, strict=True):
            key = rng.randrange(KEY_SPACE)
            rows.append((code, kind, category, month, code[:2], count, key,
                         count if kind == "priority" else perturb(count, key)))
        for table in ("rollups", *COARSER):
            db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        db.executemany(
            "INSERT INTO rollups (municipality_code, kind, category, month, department_code,"
            " count, key_sum, perturbed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        sizes = {"rollups": len(rows)}
        for table, (columns, grain) in COARSER.items():
            grouped = columns.replace("year", grain).replace("month", grain)
            db.execute(
                f"INSERT INTO {table} ({columns}, count, perturbed) "  # noqa: S608
                f"SELECT {grouped}, SUM(count), SUM(perturbed) FROM rollups GROUP BY {grouped}")
            sizes[table] = int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
    return sizes


def run(sizes: list[int], million: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as tmp:
        root = Path(tmp)
        installs, seeding = [], []
        for size in sizes:
            data_dir, rate = seeded(root / str(size), size)
            installs.append(data_dir)
            seeding.append(rate)
        filled = root / "filled" / "data"
        shutil.copytree(installs[-1], filled)
        rollup_rows = fill_rollups(filled, million)
        # In turns, so the ratios compare sizes, not minutes of a machine whose speed moves.
        measured = asyncio.run(side_by_side([*installs, filled]))
        exports = dict(zip([*sizes, million], measured, strict=True))
    default: dict[int, dict[str, Any]] = {
        size: next(r for r in rows
                   if r["group_by"] == "municipality,category" and r["profile"] == "public")
        for size, rows in exports.items()}
    ratios: dict[str, float] = {}
    for row in exports[sizes[-1]]:
        base = next(r for r in exports[sizes[0]]
                    if (r["group_by"], r["profile"]) == (row["group_by"], row["profile"]))
        ratios[f"{row['group_by']}/{row['profile']}"] = round(
            row["median_ms"] / base["median_ms"], 2)
    return {"sizes": sizes, "million": million, "seeding": seeding,
            "exports": {str(size): rows for size, rows in exports.items()},
            "ratio_largest_to_smallest": ratios, "target_ratio": 1.5,
            "filled_rollup_rows": rollup_rows,
            "default_export_filled_ms": default[million], "target_filled_ms": 300}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="3000,50000",
                        help="reports to seed, comma-separated (the first and the last compared)")
    parser.add_argument("--million", type=int, default=1_000_000,
                        help="reports the filled rollup tables stand for")
    args = parser.parse_args()
    emit(run([int(size) for size in args.sizes.split(",")], args.million))


if __name__ == "__main__":
    main()
