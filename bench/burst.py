"""Burst: `--people` people complete a threat report at once through the webhook, on SQLite or
PostgreSQL (the performance issue, item 1: p99 update → answer under 1 s, the receipt under
2 s, no error, no lost or duplicated report, RSS at idle under 150 MB).

`somos serve` (production key derivation) has a webhook on the Bot API double. The double
here is the tests' one with two additions that live only in this file: it delivers up to
40 updates at a time, as Telegram does by default (`max_connections`), where the tests'
double delivers one at a time; and it notes when each update was queued, when it was
delivered and when the bot's next message to that chat arrived (or the pressed one was
edited into it). The people are event driven, from one thread, so the bench process costs
little (its CPU is reported anyway), at one of two paces:

- `--pace human` (the target's load): the people arrive within the first `--arrive-within`
  seconds (a minute: a pamphlet read aloud, a message passed around), and each reads a
  question before tapping (2–6 s), writes a place's name in 4–10 s and what happened in
  20–45 s (drawn per person and step from a seeded generator, the same every run).
- `--pace none` (a stress, harsher than people): everyone sends /start at the same instant
  and acts the moment the message they wait for arrives.

    PYTHONPATH=. .venv/bin/python bench/burst.py --backend sqlite --people 200 --pace human
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import queue
import random
import secrets
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

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
from tests.support.botapi.telegram import JSON
from tests.support.databases import FreshDatabase, create_database, drop_database
from tests.support.harness import FOCAL_PASSWORD, LEADER_THREATENED, RECEIPT, THREAT_QUESTIONS
from tests.support.places import NARINO

DESCRIPTION = "Llegaron dos hombres en moto y dijeron que si no nos vamos nos matan"
DELIVERY_CONNECTIONS = 40
# Human pace (seconds): arrival within the first minute, reading a question before a tap,
# writing a place's name, writing what happened.
ARRIVAL_S = 60.0
READ_S, PLACE_S, DESCRIBE_S = (2.0, 6.0), (4.0, 10.0), (20.0, 45.0)
RECEIPT_TEXT = "Su código de seguimiento es"
# What each person waits for, and what they do when it arrives: ("press", the start of a
# button's label) or ("text", what they write). The receipt ends the report.
SCRIPT: tuple[tuple[str, str, str], ...] = (
    ("¿Qué quiere hacer?", "press", "🚨 Reportar"),
    ("¿Alguien está en peligro ahora?", "press", "No"),
    ("¿En qué municipio pasó?", "text", "Tumaco"),
    ("¿Es San Andrés de Tumaco (Nariño)?", "press", "Sí"),
    *((question, "press", answer) for question, answer in
      zip(THREAT_QUESTIONS, LEADER_THREATENED, strict=True)),
    ("Cuente con sus palabras", "text", DESCRIPTION),
    ("¿Tiene fotos, documentos o audios?", "press", "Omitir"),
    ("¿Podemos avisarle", "press", "No"),
    ("Revise su reporte", "press", "✅ Enviar reporte"),
)


def chat_of(update: JSON) -> int | None:
    if "message" in update:
        return int(update["message"]["chat"]["id"])
    if "callback_query" in update:
        return int(update["callback_query"]["message"]["chat"]["id"])
    return None


@dataclass
class Timeline:
    queued: dict[int, float] = field(default_factory=dict)  # chat → its update in flight
    delivered: dict[int, float] = field(default_factory=dict)
    answer: list[float] = field(default_factory=list)  # update queued → bot's next message
    after_delivery: list[float] = field(default_factory=list)  # delivered → next message
    queue_wait: list[float] = field(default_factory=list)  # queued → delivery began
    receipt: list[float] = field(default_factory=list)  # confirm queued → receipt
    confirming: set[int] = field(default_factory=set)
    acting: dict[int, str] = field(default_factory=dict)  # chat → what its update is
    by_action: dict[str, list[float]] = field(default_factory=dict)  # update queued → answer


class TimedDouble(BotApiDouble):
    """The Bot API double delivering like Telegram (40 at a time) and noting times."""

    def __init__(self, inbox: queue.Queue[tuple[int, JSON]]) -> None:
        super().__init__()
        self.timeline = Timeline()
        self.inbox = inbox
        self.webhook_errors = 0

    def start(self) -> TimedDouble:
        super().start()
        extra = [threading.Thread(target=self._webhook_loop, daemon=True,
                                  name=f"bench-webhook-{n}")
                 for n in range(DELIVERY_CONNECTIONS - 1)]
        for thread in extra:
            thread.start()
        self._threads.extend(extra)
        return self

    def __enter__(self) -> TimedDouble:
        return self.start()

    def enqueue_update(self, update: Any) -> JSON:
        body = super().enqueue_update(update)
        if (chat := chat_of(body)) is not None:
            self.timeline.queued[chat] = time.monotonic()
        return body

    def _send_message(self, params: JSON) -> JSON:
        return self._noted(super()._send_message(params))

    def _edit_message_text(self, params: JSON) -> JSON:
        """A pressed message turned into the bot's next question: the answer, as a new
        message is (the bot edits in place where the person pressed)."""
        return self._noted(super()._edit_message_text(params))

    def _noted(self, result: JSON) -> JSON:
        """The bot's answer in a chat: its time from the update, and the person reads it."""
        now, chat = time.monotonic(), int(result["chat"]["id"])
        line = self.timeline
        if (queued := line.queued.pop(chat, None)) is not None:
            line.answer.append(now - queued)
            line.by_action.setdefault(line.acting.pop(chat, "other"), []).append(now - queued)
            if (delivered := line.delivered.pop(chat, None)) is not None:
                line.after_delivery.append(now - delivered)
            if chat in line.confirming:
                line.receipt.append(now - queued)
        if RECEIPT_TEXT in result.get("text", ""):
            line.confirming.discard(chat)
        self.inbox.put((chat, result))
        return result

    def _webhook_loop(self) -> None:
        """As the double's loop, but each thread takes the oldest update not yet delivered,
        so up to DELIVERY_CONNECTIONS are in flight (one per chat here: each person waits
        for the answer before the next update)."""
        while True:
            with self._cond:
                while not self._closing and not (
                    self._webhook.get("url") and time.monotonic() >= self._webhook_retry_at
                    and any(not item.delivered for item in self._queue)
                ):
                    self._cond.wait(0.1)
                if self._closing:
                    return
                url, secret = self._webhook["url"], self._webhook.get("secret_token")
                item = next(item for item in self._queue if not item.delivered)
                item.delivered = True
                if (chat := chat_of(item.update)) is not None:
                    began = time.monotonic()
                    self.timeline.delivered[chat] = began
                    if (queued := self.timeline.queued.get(chat)) is not None:
                        self.timeline.queue_wait.append(began - queued)
            error = self._post_update(url, secret, item.update)
            with self._cond:
                if error is None:
                    if item in self._queue:
                        self._queue.remove(item)
                else:
                    self.webhook_errors += 1
                    item.delivered = False
                    self._webhook_error = (int(time.time()), error)
                    self._webhook_retry_at = time.monotonic() + self.webhook_retry_delay
                self._last_activity = time.monotonic()
                self._cond.notify_all()


@dataclass(frozen=True)
class Pace:
    """When people act: all at once and at once (`human=False`), or as people do."""

    human: bool
    arrive_within: float = ARRIVAL_S
    seed: int = 20261202

    def think(self, rng: random.Random, action: str, value: str) -> float:
        if not self.human:
            return 0.0
        low, high = (READ_S if action == "press" else
                     DESCRIBE_S if value == DESCRIPTION else PLACE_S)
        return rng.uniform(low, high)


class Crowd:
    """The people, driven by the messages they receive, from one thread."""

    def __init__(self, double: TimedDouble, inbox: queue.Queue[tuple[int, JSON]],
                 chat_ids: list[int], pace: Pace = Pace(human=False)) -> None:
        self.double, self.inbox, self.pace = double, inbox, pace
        self.rng = random.Random(pace.seed)
        self.users = {chat: double.user(user_id=chat) for chat in chat_ids}
        self.step = dict.fromkeys(chat_ids, 0)
        self.receipts: dict[int, str] = {}
        self.finished_at: dict[int, float] = {}
        self.last_seen: dict[int, str] = {}
        # (when, tie-breaker, chat, action, value, message id): what people will do next.
        self.due: list[tuple[float, int, int, str, str, int]] = []
        self._order = 0

    def start(self) -> None:
        now = time.monotonic()
        for chat in self.users:
            later = self.rng.uniform(0, self.pace.arrive_within) if self.pace.human else 0.0
            self._plan(now + later, chat, "start", "/start", 0)
        self._act_due()

    def _plan(self, when: float, chat: int, action: str, value: str, message_id: int) -> None:
        self._order += 1
        heapq.heappush(self.due, (when, self._order, chat, action, value, message_id))

    def _act_due(self) -> None:
        while self.due and self.due[0][0] <= time.monotonic():
            _when, _n, chat, action, value, message_id = heapq.heappop(self.due)
            user = self.users[chat]
            with self.double._cond:
                self.double.timeline.acting[chat] = (
                    "confirm" if action == "press" and self.step[chat] == len(SCRIPT)
                    else action)
            if action == "start":
                user.send_command(value)
            elif action == "text":
                user.send_text(value)
            else:
                if self.step[chat] == len(SCRIPT):
                    with self.double._cond:
                        self.double.timeline.confirming.add(chat)
                user.press(value, message=message_id)

    def run(self, deadline: float, stall: float = 60.0) -> None:
        """Until every receipt came, `deadline`, or `stall` seconds without any message
        while nobody is about to act."""
        last = time.monotonic()
        while len(self.receipts) < len(self.users) and time.monotonic() < deadline:
            self._act_due()
            wait = 0.5 if not self.due else max(0.0, min(0.5, self.due[0][0] - time.monotonic()))
            try:
                chat, message = self.inbox.get(timeout=wait)
            except queue.Empty:
                if not self.due and time.monotonic() - last > stall:
                    return
                continue
            last = time.monotonic()
            self.last_seen[chat] = str(message.get("text", ""))[:60]
            self.react(chat, message)

    def stuck(self) -> dict[str, int]:
        """For the people without a receipt: the last message they saw, how many each."""
        seen: dict[str, int] = {}
        for chat in self.users:
            if chat not in self.receipts:
                text = self.last_seen.get(chat, "(nothing)")
                seen[text] = seen.get(text, 0) + 1
        return seen

    def react(self, chat: int, message: JSON) -> None:
        if chat not in self.users or chat in self.receipts:
            return
        text, step = str(message.get("text", "")), self.step[chat]
        if step == len(SCRIPT):
            if (found := RECEIPT.search(text)) and RECEIPT_TEXT in text:
                self.receipts[chat] = found.group(1)
                self.finished_at[chat] = time.monotonic()
            return
        waits_for, action, value = SCRIPT[step]
        if waits_for not in text:
            return
        self.step[chat] = step + 1
        if action == "press":
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            value = next(str(button["text"]) for row in rows for button in row
                         if str(button["text"]).startswith(value))
        self._plan(time.monotonic() + self.pace.think(self.rng, action, value), chat, action,
                   value, int(message["message_id"]))
        self._act_due()


async def count_reports(database: FreshDatabase) -> int:
    if database.backend == "sqlite":
        path = make_url(database.url).database
        with sqlite3.connect(str(path)) as connection:
            return int(connection.execute("SELECT count(*) FROM reports").fetchone()[0])
    url = make_url(database.url)
    connection = await asyncpg.connect(host=url.host, port=url.port, user=url.username,
                                       database=url.database)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM reports"))
    finally:
        await connection.close()


def run(backend: str, people: int, idle_seconds: float, pace: Pace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-burst-{backend}-") as tmp:
        root = Path(tmp)
        database = asyncio.run(create_database(backend, root))
        try:
            return burst(root, database, people, idle_seconds, pace)
        finally:
            asyncio.run(drop_database(database))


def burst(root: Path, database: FreshDatabase, people: int, idle_seconds: float,
          pace: Pace) -> dict[str, Any]:
    inbox: queue.Queue[tuple[int, JSON]] = queue.Queue()
    port = free_port()
    with TimedDouble(inbox) as double:
        somos = installation(root, database.url, **{
            "TELEGRAM_BOT_TOKEN": double.token, "SOMOS_TELEGRAM_API_URL": double.base_url,
            "SOMOS_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
            "SOMOS_WEBHOOK_SECRET": secrets.token_hex(24)})
        somos.add_user("narino", "--role", "focal_point", "--department", NARINO,
                       password=FOCAL_PASSWORD)
        server = serve(somos, root / "serve.log", port)
        try:
            pid = server.process.pid
            started_rss = memory_mib(pid)
            warm = Crowd(double, inbox, [7_500_000_000])  # imports, caches, connections
            warm.start()
            warm.run(time.monotonic() + 60)
            with double._cond:
                double.timeline = Timeline()
            crowd = Crowd(double, inbox, list(range(7_600_000_001, 7_600_000_001 + people)),
                          pace)
            cpu_before, bench_cpu_before = cpu_seconds(pid), time.process_time()
            began = time.monotonic()
            crowd.start()
            crowd.run(began + 600)
            wall = time.monotonic() - began
            cpu = cpu_seconds(pid) - cpu_before
            bench_cpu = time.process_time() - bench_cpu_before
            peak = memory_mib(pid)
            time.sleep(idle_seconds)
            idle = memory_mib(pid)
            reports = asyncio.run(count_reports(database)) - len(warm.receipts)
            log = server.log()
        finally:
            server.stop()
    line = double.timeline
    finish = sorted(at - began for at in crowd.finished_at.values())
    return {
        "backend": database.backend, "people": people,
        "pace": "human" if pace.human else "none",
        "arrive_within_s": pace.arrive_within if pace.human else 0.0,
        "completed": len(crowd.receipts), "reports_in_database": reports,
        "stuck_after": crowd.stuck(),
        "distinct_receipts": len(set(crowd.receipts.values())),
        "errors_in_log": sum(("ERROR" in row or "Traceback" in row) for row in log.splitlines()),
        "webhook_errors": double.webhook_errors,
        "wall_s": round(wall, 2), "last_report_s": round(finish[-1], 2) if finish else None,
        "server_cpu_s": round(cpu, 2),
        "server_cpu_ms_per_report": round(cpu * 1000 / max(1, len(crowd.receipts)), 1),
        "bench_process_cpu_s": round(bench_cpu, 2),
        "answer": summary_ms(line.answer), "receipt": summary_ms(line.receipt),
        "answer_by_action": {name: summary_ms(values) for name, values in
                             sorted(line.by_action.items())},
        "queue_wait": summary_ms(line.queue_wait),
        "after_delivery": summary_ms(line.after_delivery),
        "rss_mib_started": started_rss.get("VmRSS"), "rss_mib_peak": peak.get("VmHWM"),
        "rss_mib_idle": idle.get("VmRSS"), "idle_after_s": idle_seconds,
        "targets": {"answer_p99_ms": 1000, "receipt_p99_ms": 2000, "rss_idle_mib": 150},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--idle", type=float, default=10.0,
                        help="seconds to wait after the burst before reading RSS at idle")
    parser.add_argument("--pace", choices=("human", "none"), default="human")
    parser.add_argument("--arrive-within", type=float, default=ARRIVAL_S,
                        help="seconds over which people arrive at a human pace")
    args = parser.parse_args()
    emit(run(args.backend, args.people, args.idle,
             Pace(human=args.pace == "human", arrive_within=args.arrive_within)))


if __name__ == "__main__":
    main()
