"""Per turn, in process: CPU and wall time of each update of a threat report, fed to the real
PTB Application of `bot.telegram.build_application` through an in-process Bot API request,
against a bare PTB handler that answers each update with one message through the same
request class (the performance issue, item 1: a step within 2× the bare handler).

One installation (`somos init` on SQLite, production key derivation, a Nariño focal point);
`--people` people complete a threat report one after another, update by update, each update
timed with `time.process_time` (the whole process: the key derivations run in worker
threads) and `time.perf_counter`. The bare handler gets the same updates (messages as
messages, button presses as button presses), answers a press as Somos does (answer the
query, remove its keyboard, send the next question with a keyboard) and stores nothing.

    PYTHONPATH=. .venv/bin/python bench/per_turn.py --people 20
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bench.common import emit, installation, summary_ms
from bot.conversations import Conversations
from bot.telegram import build_application
from flows.conversation import build_flow
from flows.municipalities import Catalog
from storage.store import open_store
from tests.support.harness import FOCAL_PASSWORD, LEADER_THREATENED
from tests.support.places import NARINO
from tests.support.telegram_request import BOT, RecordingRequest

DESCRIPTION = "Llegaron dos hombres en moto y dijeron que si no nos vamos nos matan"
# A threat report, update by update: ("text", what is written) or ("press", the start of
# the button's label). The first update opens a new chat; the last one is the confirm.
STEPS: tuple[tuple[str, str], ...] = (
    ("text", "/start"), ("press", "🚨 Reportar"), ("press", "No"), ("text", "Tumaco"),
    ("press", "Sí"), *(("press", answer) for answer in LEADER_THREATENED),
    ("text", DESCRIPTION), ("press", "Omitir"), ("press", "No"), ("press", "✅ Enviar"),
)

_update_ids = iter(range(1, 10**9))


def message(chat_id: int, text: str) -> dict[str, Any]:
    body: dict[str, Any] = {"message_id": next(_update_ids), "date": int(time.time()),
                            "chat": {"id": chat_id, "type": "private", "first_name": "Ana"},
                            "from": {"id": chat_id, "is_bot": False, "first_name": "Ana"},
                            "text": text}
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": next(_update_ids), "message": body}


def press(chat_id: int, shown: dict[str, Any], label: str) -> dict[str, Any]:
    """The callback query of the button of `shown` (the last message) starting with `label`."""
    rows = json.loads(shown["reply_markup"])["inline_keyboard"] if "reply_markup" in shown else []
    data = next((button["callback_data"] for row in rows for button in row
                 if button["text"].startswith(label)), "x")
    return {"update_id": next(_update_ids), "callback_query": {
        "id": str(next(_update_ids)), "chat_instance": "ci", "data": data,
        "from": {"id": chat_id, "is_bot": False, "first_name": "Ana"},
        "message": {"message_id": shown.get("message_id", 1), "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"}, "from": BOT,
                    "text": shown.get("text", "")},
    }}


Timings = dict[str, list[float]]


async def walk(application: Application, request: RecordingRequest,  # type: ignore[type-arg]
               people: int, first_chat: int, cpu: Timings, wall: Timings,
               check: Callable[[str, str], None]) -> None:
    for person in range(people):
        chat_id = first_chat + person
        for index, (kind, value) in enumerate(STEPS):
            shown = request.last.get(chat_id, {})
            data = message(chat_id, value) if kind == "text" else press(chat_id, shown, value)
            update = Update.de_json(data, application.bot)
            name = ("first" if index == 0 else "confirm" if index == len(STEPS) - 1
                    else f"plain_{kind}")
            cpu_before, wall_before = time.process_time(), time.perf_counter()
            await application.process_update(update)
            wall[name].append(time.perf_counter() - wall_before)
            cpu[name].append(time.process_time() - cpu_before)
            check(name, "\n".join(request.texts.get(chat_id, [])[-6:]))


def bare_application(request: RecordingRequest) -> Application:  # type: ignore[type-arg]
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Sí", callback_data="si")],
                                     [InlineKeyboardButton("No", callback_data="no")]])

    async def on_message(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await update.effective_chat.send_message("¿Qué quiere hacer?", reply_markup=keyboard)

    async def on_press(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and update.effective_chat is not None
        await query.answer()
        await query.edit_message_reply_markup(None)
        await update.effective_chat.send_message("¿Qué quiere hacer?", reply_markup=keyboard)

    application = (Application.builder().token("42:BARE").base_url("http://telegram.invalid/bot")
                   .request(request).get_updates_request(request).build())
    application.add_handler(CallbackQueryHandler(on_press))
    application.add_handler(MessageHandler(filters.ALL, on_message))
    return application


def stats(cpu: Timings, wall: Timings) -> dict[str, Any]:
    plain_cpu = cpu["plain_text"] + cpu["plain_press"]
    plain_wall = wall["plain_text"] + wall["plain_press"]
    out: dict[str, Any] = {}
    for name, cpus, walls in (("plain", plain_cpu, plain_wall),
                              *((n, cpu[n], wall[n]) for n in
                                ("plain_text", "plain_press", "first", "confirm"))):
        out[name] = {"cpu_ms_mean": round(statistics.fmean(cpus) * 1000, 2) if cpus else None,
                     "cpu": summary_ms(cpus), "wall": summary_ms(walls)}
    return out


async def run(people: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-turn-") as tmp:
        somos = installation(Path(tmp))
        somos.add_user("narino", "--role", "focal_point", "--department", NARINO,
                       password=FOCAL_PASSWORD)
        store = open_store(database_url=somos.database_url,
                           key_file=somos.data_dir / "somos-keys.json")
        conversations = Conversations(store=store, flow=build_flow(Catalog.load()),
                                      draft_ttl=timedelta(minutes=30))
        somos_request, bare_request = RecordingRequest(), RecordingRequest()
        somos_app = build_application(
            token="42:IN-PROCESS", base_url="http://telegram.invalid/bot",  # noqa: S106
            base_file_url="http://telegram.invalid/file/bot", conversations=conversations,
            request=somos_request)
        bare_app = bare_application(bare_request)
        receipts = 0

        def count_receipts(name: str, text: str) -> None:
            nonlocal receipts
            receipts += name == "confirm" and "Su código de seguimiento" in text

        def nothing(_name: str, _text: str) -> None:
            return None

        try:
            async with somos_app, bare_app:
                gc.freeze()  # as `somos serve` does once it has started
                # Warm up both (imports, caches, the first connection), then measure.
                results: dict[str, tuple[Timings, Timings]] = {}
                for label, app, request, check in (
                        ("somos", somos_app, somos_request, count_receipts),
                        ("bare", bare_app, bare_request, nothing)):
                    sink: tuple[Timings, Timings] = (_timings(), _timings())
                    await walk(app, request, 1, 5_000_000, *sink, nothing)
                    results[label] = (_timings(), _timings())
                    await walk(app, request, people, 6_000_000, *results[label], check)
        finally:
            await store.close()
    somos_stats, bare_stats = stats(*results["somos"]), stats(*results["bare"])
    ratio = (somos_stats["plain"]["cpu"]["p50"] / bare_stats["plain"]["cpu"]["p50"]
             if bare_stats["plain"]["cpu"]["p50"] else None)
    return {"people": people, "updates_per_report": len(STEPS), "receipts": receipts,
            "somos": somos_stats, "bare": bare_stats,
            "plain_cpu_p50_ratio": round(ratio, 2) if ratio else None,
            "plain_cpu_mean_ratio": round(somos_stats["plain"]["cpu_ms_mean"]
                                          / bare_stats["plain"]["cpu_ms_mean"], 2),
            "plain_wall_p50_ratio": round(somos_stats["plain"]["wall"]["p50"]
                                          / bare_stats["plain"]["wall"]["p50"], 2),
            "target_ratio": 2.0}


def _timings() -> Timings:
    return {name: [] for name in ("first", "plain_text", "plain_press", "confirm")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20)
    args = parser.parse_args()
    emit(asyncio.run(run(args.people)))


if __name__ == "__main__":
    main()
