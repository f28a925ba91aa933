"""`make bench`: every benchmark of the performance issue on this machine, one after another,
and docs/BENCHMARKS.md written from that one run (machine, date, commit, load, each
comparison side by side, each target met or missed by how much, why, what would close it).

Each bench runs as its own process (`bench/*.py`, which print one JSON line) so one's memory
and threads never weigh on the next. Never part of `make test`: timings decide nothing there.

    PYTHONPATH=. .venv/bin/python bench/run.py            # full sizes, about 12 minutes
    PYTHONPATH=. .venv/bin/python bench/run.py --quick    # small sizes, for development

The full run's sizes are the issue's; `--quick` keeps the shape with small numbers and
writes its figures the same way (marked QUICK at the top: not the figures to quote).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "BENCHMARKS.md"
FLAMEGRAPH = ROOT / "bench" / "flamegraph.svg"

# name → (script, full arguments, quick arguments)
BENCHES: dict[str, tuple[str, list[str], list[str]]] = {
    "conversation": ("conversation_cost.py",
                     ["--people", "12", "--rounds", "2", "--flamegraph", str(FLAMEGRAPH)],
                     ["--people", "3", "--rounds", "1"]),
    "per_turn": ("per_turn.py", ["--people", "20"], ["--people", "3"]),
    # The burst at a human pace (the target's load), then the stress: all at the same instant.
    "burst_sqlite": ("burst.py", ["--backend", "sqlite", "--people", "200", "--idle", "20"],
                     ["--backend", "sqlite", "--people", "20", "--idle", "3",
                      "--arrive-within", "5"]),
    "burst_postgresql": ("burst.py",
                         ["--backend", "postgresql", "--people", "200", "--idle", "20"],
                         ["--backend", "postgresql", "--people", "20", "--idle", "3",
                          "--arrive-within", "5"]),
    "stress_sqlite": ("burst.py", ["--backend", "sqlite", "--people", "200", "--pace", "none",
                                   "--idle", "20"],
                      ["--backend", "sqlite", "--people", "20", "--pace", "none",
                       "--idle", "3"]),
    "stress_postgresql": ("burst.py", ["--backend", "postgresql", "--people", "200",
                                       "--pace", "none", "--idle", "20"],
                          ["--backend", "postgresql", "--people", "20", "--pace", "none",
                           "--idle", "3"]),
    "triage": ("triage.py", ["--reports", "100000", "--seeded", "20000"],
               ["--reports", "6000", "--seeded", "2000", "--requests", "100"]),
    "exports": ("exports.py", ["--sizes", "3000,50000"], ["--sizes", "500,3000"]),
}


def busy_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of every CPU since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_one(name: str, script: str, args: list[str]) -> dict[str, Any]:
    """Runs one bench; its result, how long it took and how busy the machine was meanwhile."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    busy_before, total_before = busy_jiffies()
    ours_before, began = children_cpu(), time.monotonic()
    print(f"bench: {name} …", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], env=env,
                          cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.monotonic() - began
    busy_after, total_after = busy_jiffies()
    cores = os.cpu_count() or 1
    machine_busy = (busy_after - busy_before) / max(1, total_after - total_before) * cores
    ours = (children_cpu() - ours_before) / wall
    run = {"wall_s": round(wall, 1), "machine_busy_cores": round(machine_busy, 2),
           "ours_cores": round(ours, 2),
           "others_cores": round(max(0.0, machine_busy - ours), 2),
           "loadavg_after": os.getloadavg()[0]}
    print(f"bench: {name} done in {wall:.0f} s (rc {done.returncode})", file=sys.stderr,
          flush=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": done.stderr[-3000:] or done.stdout[-3000:], "run": run}
    return {**json.loads(lines[-1]), "run": run}


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    postgres = subprocess.run(
        [sys.executable, "-c", "import asyncio, asyncpg\n"
         "async def v():\n c = await asyncpg.connect('postgresql://postgres@127.0.0.1:5432/postgres')\n"
         " print(await c.fetchval('SHOW server_version')); await c.close()\n"
         "asyncio.run(v())"], capture_output=True, text=True, check=False).stdout.strip()
    return {"cores": os.cpu_count(), "cpu_model": model, "ram_gib": round(memory / 1024**2, 1),
            "python": platform.python_version(), "kernel": platform.release(),
            "postgresql": postgres or "?", "loadavg_start": [round(v, 2) for v in os.getloadavg()]}


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True, check=False).stdout.strip()
    return f"{head or '?'}{' (with uncommitted changes)' if dirty else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for development")
    parser.add_argument("--only", action="append", choices=sorted(BENCHES),
                        help="run only these benches (repeatable; the file says which ran)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    started = datetime.now(UTC)
    info = {"machine": machine(), "commit": commit(), "date": started.isoformat(timespec="seconds"),
            "quick": args.quick}
    results: dict[str, Any] = {}
    began = time.monotonic()
    for name, (script, full, quick) in BENCHES.items():
        if args.only and name not in args.only:
            continue
        results[name] = run_one(name, script, quick if args.quick else full)
    info["total_s"] = round(time.monotonic() - began)
    info["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    (ROOT / "bench" / "last-run.json").write_text(
        json.dumps({"info": info, "results": results}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8")
    from bench.report import render  # noqa: PLC0415 - `bench/report.py FILE` renders again

    args.output.write_text(render(info, results), encoding="utf-8")
    print(f"bench: wrote {args.output.relative_to(ROOT)} in {info['total_s']} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
