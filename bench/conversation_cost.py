"""Conversation cost: server CPU and wall time per completed threat report, Somos against
a hand-rolled python-telegram-bot bot of the same shape that stores nothing
(`bench/handrolled_bot.py`), side by side in one run (the performance issue, item 1).

Each round starts both bots on their own Bot API double (tests/support/botapi, real HTTP),
lets one person finish a report to warm them up, then has `--people` simulated people
complete a threat report at once, as in tests/support/harness.report_threat. The bot's CPU
is read from /proc (user + system of the process and its reaped children) before and
after; the double and the people run in this process and are not counted. Somos runs as
`somos serve` on SQLite with production key derivation (SOMOS_FAST_KDF=0).

    PYTHONPATH=. .venv/bin/python bench/conversation_cost.py --people 12 --rounds 2

Prints one JSON object; `bench/run.py` turns it into docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.botapi import BotApiDouble
from tests.support.harness import FOCAL_PASSWORD, Somos, report_threat, start_server
from tests.support.places import NARINO

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DESCRIPTION = "Llegaron dos hombres en moto y dijeron que si no nos vamos nos matan"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + cutime + cstime) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Measure:
    bot: str
    people: int
    cpu_ms_per_report: float
    wall_s: float
    p50_report_s: float
    max_report_s: float
    rss_mib: float


_ids = iter(range(7_300_000_001, 7_399_999_999))


def crowd(double: BotApiDouble, people: int) -> list[float]:
    """`people` people completing a threat report at once; each one's wall time."""
    def one(_: int) -> float:
        user = double.user(user_id=next(_ids))  # type: ignore[arg-type]
        started = time.monotonic()
        report_threat(user, DESCRIPTION)
        return time.monotonic() - started

    with ThreadPoolExecutor(max_workers=people) as pool:
        return list(pool.map(one, range(people)))


def measure(bot: str, pid: int, double: BotApiDouble, people: int) -> Measure:
    crowd(double, 1)  # warm up: imports, caches, the first connection
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    times = crowd(double, people)
    wall = time.monotonic() - started
    cpu = cpu_seconds(pid) - cpu_before
    return Measure(bot=bot, people=people, cpu_ms_per_report=round(cpu * 1000 / people, 1),
                   wall_s=round(wall, 2), p50_report_s=round(statistics.median(times), 2),
                   max_report_s=round(max(times), 2), rss_mib=round(rss_mib(pid), 1))


@contextmanager
def somos_bot(root: Path) -> Iterator[tuple[int, BotApiDouble]]:
    with BotApiDouble() as double:
        somos = Somos(root / "data", f"sqlite:///{root / 'data' / 'somos.db'}", {
            "TELEGRAM_BOT_TOKEN": double.token, "SOMOS_TELEGRAM_API_URL": double.base_url,
            "SOMOS_FAST_KDF": "0",
        })
        somos.run("init")
        somos.add_user("narino", "--role", "focal_point", "--department", NARINO,
                       password=FOCAL_PASSWORD)
        server = start_server(somos, root / "serve.log")
        try:
            yield server.process.pid, double
        finally:
            server.stop()


@contextmanager
def handrolled_bot(root: Path) -> Iterator[tuple[int, BotApiDouble]]:
    with BotApiDouble() as double:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("handrolled_bot.py")),
             double.token, double.base_url, double.base_file_url],
            stdout=(root / "handrolled.log").open("wb"), stderr=subprocess.STDOUT)
        try:
            yield process.pid, double
        finally:
            process.terminate()
            process.wait(timeout=30)


BOTS: dict[str, Callable[[Path], AbstractContextManager[tuple[int, BotApiDouble]]]] = {
    "somos": somos_bot, "handrolled": handrolled_bot,
}


def run(people: int, rounds: int) -> dict[str, object]:
    measures: list[Measure] = []
    for _ in range(rounds):
        for name, start in BOTS.items():
            with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp, \
                    start(Path(tmp)) as (pid, double):
                measures.append(measure(name, pid, double, people))
    ratios = [
        round(somos.cpu_ms_per_report / hand.cpu_ms_per_report, 2)
        for somos, hand in zip(measures[0::2], measures[1::2], strict=True)
    ]
    return {"people": people, "rounds": [m.__dict__ for m in measures],
            "cpu_ratio_per_round": ratios, "target_ratio": 3.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(run(args.people, args.rounds), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
