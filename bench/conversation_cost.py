"""Conversation cost: server CPU and wall time per completed threat report, Somos against
a hand-rolled python-telegram-bot bot of the same shape that stores nothing
(`bench/handrolled_bot.py`), side by side in one run (the performance issue, item 1).

Each round starts both bots on their own Bot API double (tests/support/botapi, real HTTP),
lets one person finish a report to warm them up, then has `--people` simulated people
complete a threat report at once, as in tests/support/harness.report_threat. The bot's CPU
is read from /proc (user + system of the process and its reaped children) before and
after; the double and the people run in this process and are not counted. Somos runs as
`somos serve` on SQLite with production key derivation (SOMOS_FAST_KDF=0). The double notes
the time from each update to the bot's next message in that chat (`bench/burst.py`'s
TimedDouble): the wall time of a step, p50 and p99. With `--flamegraph FILE`, one more
Somos round (not counted) runs under py-spy and leaves its flame graph in FILE.

    PYTHONPATH=. .venv/bin/python bench/conversation_cost.py --people 12 --rounds 2

Prints one JSON object; `bench/run.py` turns it into docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import queue
import shutil
import signal
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

from bench.burst import DESCRIPTION, TimedDouble, Timeline
from bench.common import (
    cpu_seconds,
    emit,
    free_port,
    installation,
    memory_mib,
    serve,
    summary_ms,
)
from tests.support.botapi import BotApiDouble
from tests.support.harness import FOCAL_PASSWORD, report_threat
from tests.support.places import NARINO


@dataclass
class Measure:
    bot: str
    people: int
    cpu_ms_per_report: float
    wall_s: float
    p50_report_s: float
    max_report_s: float
    step_wall_ms: dict[str, float]
    rss_mib: float | None


_ids = iter(range(7_300_000_001, 7_399_999_999))


def crowd(double: BotApiDouble, people: int) -> list[float]:
    """`people` people completing a threat report at once; each one's wall time."""
    def one(_: int) -> float:
        user = double.user(user_id=next(_ids))
        started = time.monotonic()
        report_threat(user, DESCRIPTION)
        return time.monotonic() - started

    with ThreadPoolExecutor(max_workers=people) as pool:
        return list(pool.map(one, range(people)))


def measure(bot: str, pid: int, double: TimedDouble, people: int) -> Measure:
    crowd(double, 1)  # warm up: imports, caches, the first connection
    with double._cond:
        double.timeline = Timeline()
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    times = crowd(double, people)
    wall = time.monotonic() - started
    cpu = cpu_seconds(pid) - cpu_before
    return Measure(bot=bot, people=people, cpu_ms_per_report=round(cpu * 1000 / people, 1),
                   wall_s=round(wall, 2), p50_report_s=round(statistics.median(times), 2),
                   max_report_s=round(max(times), 2),
                   step_wall_ms=summary_ms(double.timeline.answer),
                   rss_mib=memory_mib(pid).get("VmRSS"))


def timed_double() -> TimedDouble:
    return TimedDouble(queue.Queue())


@contextmanager
def somos_bot(root: Path) -> Iterator[tuple[int, TimedDouble]]:
    with timed_double() as bot_api:
        somos = installation(root, TELEGRAM_BOT_TOKEN=bot_api.token,
                             SOMOS_TELEGRAM_API_URL=bot_api.base_url)
        somos.add_user("narino", "--role", "focal_point", "--department", NARINO,
                       password=FOCAL_PASSWORD)
        server = serve(somos, root / "serve.log", free_port())
        try:
            yield server.process.pid, bot_api
        finally:
            server.stop()


@contextmanager
def handrolled_bot(root: Path) -> Iterator[tuple[int, TimedDouble]]:
    with timed_double() as bot_api:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("handrolled_bot.py")),
             bot_api.token, bot_api.base_url, bot_api.base_file_url],
            stdout=(root / "handrolled.log").open("wb"), stderr=subprocess.STDOUT)
        try:
            yield process.pid, bot_api
        finally:
            process.terminate()
            process.wait(timeout=30)


BOTS: dict[str, Callable[[Path], AbstractContextManager[tuple[int, TimedDouble]]]] = {
    "somos": somos_bot, "handrolled": handrolled_bot,
}


def run(people: int, rounds: int, flamegraph: Path | None = None) -> dict[str, object]:
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
    if flamegraph is not None:
        profile(people, flamegraph)
    return {"people": people, "rounds": [m.__dict__ for m in measures],
            "cpu_ratio_per_round": ratios, "target_ratio": 3.0,
            "flamegraph": str(flamegraph) if flamegraph else None}


def profile(people: int, flamegraph: Path) -> None:
    """One Somos round with py-spy sampling the started server from outside (attached after
    the warm-up, so start-up imports stay out of the graph; not counted above)."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp, \
            somos_bot(Path(tmp)) as (pid, bot_api):
        crowd(bot_api, 1)
        sampler = subprocess.Popen(
            [spy, "record", "--pid", str(pid), "--rate", "200", "--nonblocking",
             "--format", "flamegraph", "--output", str(flamegraph.resolve())],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)  # attached
        crowd(bot_api, people)
        sampler.send_signal(signal.SIGINT)
        sampler.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--flamegraph", type=Path, help="profile one more Somos round here")
    args = parser.parse_args()
    emit(run(args.people, args.rounds, args.flamegraph))


if __name__ == "__main__":
    main()
