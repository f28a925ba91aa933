"""docs/BENCHMARKS.md from one `bench/run.py` run (its bench/last-run.json).

    PYTHONPATH=. .venv/bin/python bench/report.py bench/last-run.json > docs/BENCHMARKS.md

The verdicts are computed from the figures; the "why" and "what would close it" paragraphs
are the analysis behind each target (the flame graph, the per-turn split), with this run's
numbers in them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

R = dict[str, Any]


def verdict(value: float | None, target: float, unit: str = "") -> str:
    """«met» or «missed by N× (M over)», for a figure that must stay at or under `target`."""
    if value is None:
        return "not measured"
    if value <= target:
        return "**met**"
    if unit == "×":
        return f"**missed** by {value / target:.1f}×"
    return f"**missed** by {value / target:.1f}× ({value - target:,.1f}{unit} over)"


def ms(summary: R | None, key: str) -> str:
    value = (summary or {}).get(key)
    return "—" if value is None else f"{value:,.1f}"


def failed(result: R | None) -> str | None:
    if result is None:
        return "not run (`--only`)"
    if "error" in result:
        tail = result["error"].strip().splitlines()[-8:]
        return "failed:\n\n```\n" + "\n".join(tail) + "\n```"
    return None


def header(info: R) -> list[str]:
    machine = info["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`; the text by `bench/report.py`) from one run:",
        "run it again rather than editing this file. Timings never decide `make test`. Earlier",
        "investigations (exports, seeding, pseudonym guessing), with their profiles and the",
        "changes they led to, stay in [bench/RESULTS.md](../bench/RESULTS.md).",
        "",
    ]
    if info.get("quick"):
        lines += ["> **QUICK run** (`make bench QUICK=1`): small sizes for development. These are",
                  "> not the figures to quote; run `make bench`.", ""]
    lines += [
        f"- **Date**: {info['date']} (UTC); the whole run took {info['total_s'] / 60:.1f} minutes.",
        f"- **Commit**: `{info['commit']}`.",
        f"- **Machine**: {machine['cores']} cores, {machine['cpu_model']}, "
        f"{machine['ram_gib']} GiB RAM; Python {machine['python']}, PostgreSQL "
        f"{machine['postgresql']}, Linux {machine['kernel']}.",
        f"- **Load**: load average {machine['loadavg_start'][0]} at the start and "
        f"{info['loadavg_end'][0]} at the end. The machine is shared with other engineers' "
        "test runs: the table at the end says, per bench, how many cores were busy and how "
        "many of them were not ours. Wall times and latencies are upper bounds when others "
        "were busy; CPU times are the steadier figures.",
        "",
    ]
    return lines


def at_a_glance(results: R) -> list[str]:
    rows = ["## Targets at a glance", "",
            "| Comparison | Target | Measured (this run) | Verdict |", "|---|---|---|---|"]
    conv = results.get("conversation")
    if conv and not failed(conv):
        ratios = conv["cpu_ratio_per_round"]
        rows.append(f"| Conversation cost: server CPU per report, Somos ÷ hand-rolled bot | ≤ 3× "
                    f"| {' and '.join(f'{r}×' for r in ratios)} (one ratio per round) "
                    f"| {verdict(max(ratios), 3.0, '×')} |")
    turn = results.get("per_turn")
    if turn and not failed(turn):
        rows.append(f"| Per turn: CPU of a plain step, Somos ÷ bare PTB handler (p50) | ≤ 2× "
                    f"| {turn['plain_cpu_p50_ratio']}× ({turn['somos']['plain']['cpu']['p50']} ms "
                    f"÷ {turn['bare']['plain']['cpu']['p50']} ms) "
                    f"| {verdict(turn['plain_cpu_p50_ratio'], 2.0, '×')} |")
    for key, name in BURST_RUNS:
        burst = results.get(key)
        if not burst or failed(burst):
            continue
        people, what = burst["people"], _crowd(burst)
        rows += [
            f"| {what.capitalize()}, {name}: p99 update → answer | < 1,000 ms "
            f"| {ms(burst['answer'], 'p99')} ms "
            f"| {verdict(burst['answer'].get('p99'), 1000, ' ms')} |",
            f"| {what.capitalize()}, {name}: p99 confirm → receipt | < 2,000 ms "
            f"| {ms(burst['receipt'], 'p99')} ms "
            f"| {verdict(burst['receipt'].get('p99'), 2000, ' ms')} |",
            f"| {what.capitalize()}, {name}: errors, lost or duplicated reports | none "
            f"| {burst['completed']}/{people} receipts, {burst['reports_in_database']} reports "
            f"stored, {burst['distinct_receipts']} distinct receipts, "
            f"{burst['errors_in_log'] + burst['webhook_errors']} errors "
            f"| {'**met**' if _clean(burst) else '**missed**'} |",
            f"| {what.capitalize()}, {name}: RSS at idle after it (peak) | < 150 MB "
            f"| {burst['rss_mib_idle']} MiB ({burst['rss_mib_peak']} MiB peak) "
            f"| {verdict(burst['rss_mib_idle'] * 1.048576, 150, ' MB')} |",
        ]
    triage = results.get("triage")
    if triage and not failed(triage):
        rows.append(f"| Triage: first page of `GET /api/v1/reports`, {triage['reports']:,} reports "
                    f"in PostgreSQL, p95 | < 50 ms | {ms(triage['first_page'], 'p95')} ms "
                    f"| {verdict(triage['first_page'].get('p95'), 50, ' ms')} |")
    exports = results.get("exports")
    if exports and not failed(exports):
        first, last = exports["sizes"][0], exports["sizes"][-1]
        worst = max(exports["ratio_largest_to_smallest"].values())
        rows.append(f"| Exports: {last:,} ÷ {first:,} reports, median, worst grouping | ≤ 1.5× "
                    f"| {worst}× | {verdict(worst, 1.5, '×')} |")
        filled = exports["default_export_filled_ms"]
        rows.append(f"| Exports: default export (municipality × category, public) with rollups "
                    f"of {exports['million']:,} reports, median (p90) | < 300 ms "
                    f"| {filled['median_ms']} ms ({filled['p90_ms']} ms) "
                    f"| {verdict(filled['median_ms'], 300, ' ms')} |")
        rates = [s for s in exports["seeding"]]
        if triage and not failed(triage):
            rates.append({**triage["seed"], "backend": "postgresql"})
        big = max(rates, key=lambda s: s["reports"])
        minutes_for_50k = 50_000 / big["reports_per_s_wall"] / 60
        rows.append(f"| Seeding: `somos demo seed`, {big['reports']:,} reports ({big['backend']}) "
                    f"| 50,000 in ≤ 5 min | {big['reports_per_s_wall']:,} reports/s wall "
                    f"({minutes_for_50k:.1f} min for 50,000) "
                    f"| {verdict(minutes_for_50k, 5, ' min')} |")
    for name, result in results.items():
        if (why := failed(result)) is not None:
            rows.append(f"| {name} | — | {why.splitlines()[0]} | see below |")
    return [*rows, ""]


# (result key, database): the burst at a human pace (the target's load), then the stress.
BURST_RUNS = (("burst_sqlite", "SQLite"), ("burst_postgresql", "PostgreSQL"),
              ("stress_sqlite", "SQLite"), ("stress_postgresql", "PostgreSQL"))


def _crowd(burst: R) -> str:
    if burst.get("pace") == "human":
        return (f"burst: {burst['people']} people arriving within "
                f"{burst['arrive_within_s']:.0f} s, at a human pace")
    return f"stress: {burst['people']} people at the same instant, no reading time"


def _clean(burst: R) -> bool:
    people = burst["people"]
    return bool(burst["completed"] == people == burst["reports_in_database"]
            == burst["distinct_receipts"] and burst["errors_in_log"] == 0
            and burst["webhook_errors"] == 0)


def conversation(results: R) -> list[str]:
    conv, turn = results.get("conversation"), results.get("per_turn")
    lines = ["## 1. Conversation cost (`bench/conversation_cost.py`)", "",
             "`somos serve` (SQLite, production key derivation) against `bench/handrolled_bot.py`, "
             "a python-telegram-bot bot of the same conversation shape that stores nothing, each "
             "polling its own Bot API double; the same simulated people complete a threat report "
             "at once (14 updates each), after one warm-up report. Server CPU from /proc (the "
             "double and the people run in the bench process and are not counted). Step wall "
             "time: from an update queued in the double to the bot's next message in that chat.",
             ""]
    if (why := failed(conv)) is not None:
        return [*lines, why, ""]
    assert conv is not None
    lines += ["| round | bot | people | CPU ms per report | wall s | report p50 s | step p50 ms "
              "| step p99 ms | RSS MiB |", "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for index, row in enumerate(conv["rounds"]):
        lines.append(f"| {index // 2 + 1} | {row['bot']} | {row['people']} | "
                     f"{row['cpu_ms_per_report']} | {row['wall_s']} | {row['p50_report_s']} | "
                     f"{ms(row['step_wall_ms'], 'p50')} | {ms(row['step_wall_ms'], 'p99')} | "
                     f"{row['rss_mib']} |")
    ratios = conv["cpu_ratio_per_round"]
    lines += ["", f"**Ratio per round: {', '.join(f'{r}×' for r in ratios)}** (target ≤ 3×: "
              f"{verdict(max(ratios), 3.0, '×')})."]
    if conv.get("flamegraph"):
        lines += ["", "A flame graph of one more Somos round (py-spy attached after the warm-up, "
                  "not counted above): [bench/flamegraph.svg](../bench/flamegraph.svg). py-spy "
                  "samples threads that are running or waiting for a core alike, so the key "
                  "derivations, several at once in worker threads when everyone starts together, "
                  "look larger there than their CPU share; the per-turn split below is the CPU."]
    somos = [r for r in conv["rounds"] if r["bot"] == "somos"]
    hand = [r for r in conv["rounds"] if r["bot"] == "handrolled"]
    somos_ms = sum(r["cpu_ms_per_report"] for r in somos) / len(somos)
    hand_ms = sum(r["cpu_ms_per_report"] for r in hand) / len(hand)
    lines += ["", f"Over the rounds: {somos_ms:.0f} ms per report against {hand_ms:.0f} ms, "
              f"{somos_ms / hand_ms:.2f}×. The hand-rolled bot's own figure moves by a tenth or "
              "more from round to round on this shared machine; so does the ratio.", "",
              "**Where a report's CPU goes.**"]
    if turn and not failed(turn):
        s = turn["somos"]
        plain = s["plain"]["cpu_ms_mean"]
        first, confirm = s["first"]["cpu_ms_mean"], s["confirm"]["cpu_ms_mean"]
        steps = turn["updates_per_report"] - 2
        in_process = first + confirm + steps * plain
        kdf = first + confirm - 2 * plain
        lines += [
            f"The per-turn bench splits it in process (no HTTP): the first update of a new "
            f"chat {first:.0f} ms (the chat pseudonym's Argon2id, three passes over 32 MiB, once "
            f"per chat and day-long epoch: the anonymity cost of docs/THREAT_MODEL.md), the "
            f"confirm {confirm:.0f} ms (the receipt's Argon2id, the HPKE wraps, the report, "
            f"rollups and audit rows), and {steps} plain steps at {plain:.1f} ms each: "
            f"{in_process:.0f} ms in all ({kdf:.0f} ms of it what the first update and the "
            f"confirm cost beyond a plain step, mostly the two key derivations), "
            f"against {somos_ms:.0f} ms per report through `somos serve`. The rest (about "
            f"{max(0.0, somos_ms - in_process):.0f} ms) is the server around the bot, most of "
            f"it what the hand-rolled bot spends too: PTB and httpx making the Bot API calls "
            f"(two per button press, the answer and the edit that turns the pressed message "
            f"into the next question; the hand-rolled bot makes three) and polling for updates, "
            f"the kernel's side of those connections and of the key derivations' memory "
            f"(libsodium maps the memory afresh for each hash: 8,192 page faults for the "
            f"pseudonym's 32 MiB and 4,864 for the receipt's 19 MiB, 15 to 25 ms of the "
            f"kernel's time a report on this machine), the focal point's notification.",
        ]
    else:
        lines += ["(The per-turn bench did not run: no split.)"]
    if max(ratios) > 3.0:
        lines += [
            "",
            f"**What would close it.** At 3× the hand-rolled bot's {hand_ms:.0f} ms, a report "
            f"may cost {3 * hand_ms:.0f} ms; it costs {somos_ms:.0f}. Already done: Argon2id "
            "through libsodium, the statements of every update built once, and a chat's step "
            "run on the event loop's thread with no trip to SQLite's (storage/sqlite_driver.py). "
            "Left: aiohttp instead of httpx for the Bot API calls (about a tenth less CPU a "
            "report, interleaved rounds in bench/RESULTS.md; eight more dependencies), the "
            "chat trace's own transaction after a written answer folded into the next step's, "
            "a second process behind the webhook. Lowering the key derivations' cost would "
            "close most of it but gives away the anonymity they buy; the issue says not to.",
        ]
    return [*lines, ""]


def per_turn(results: R) -> list[str]:
    turn = results.get("per_turn")
    lines = ["## 2. Per turn, in process (`bench/per_turn.py`)", "",
             "The real PTB Application of `bot.telegram.build_application` fed updates through "
             "`process_update`, with an in-memory Bot API request (as the adapter tests), "
             "against a bare PTB handler answering each update with one message through the "
             "same request class (a press: answer, remove the keyboard, send). CPU is "
             "`time.process_time` of the process (the key derivations run in worker threads); "
             "one installation, SQLite, production key derivation, people one after another.",
             ""]
    if (why := failed(turn)) is not None:
        return [*lines, why, ""]
    assert turn is not None
    lines += ["| step | n | Somos CPU p50 / p99 ms | Somos wall p50 / p99 ms | bare CPU p50 / p99 "
              "ms | bare wall p50 / p99 ms |", "|---|---:|---:|---:|---:|---:|"]
    labels = {"plain": "plain step (all)", "plain_text": "plain step: a message",
              "plain_press": "plain step: a button", "first": "first update of a new chat",
              "confirm": "confirm (submission, receipt)"}
    for key, label in labels.items():
        s, b = turn["somos"][key], turn["bare"][key]
        lines.append(f"| {label} | {s['cpu']['n']} | {ms(s['cpu'], 'p50')} / {ms(s['cpu'], 'p99')} "
                     f"| {ms(s['wall'], 'p50')} / {ms(s['wall'], 'p99')} | {ms(b['cpu'], 'p50')} / "
                     f"{ms(b['cpu'], 'p99')} | {ms(b['wall'], 'p50')} / {ms(b['wall'], 'p99')} |")
    ratio = turn["plain_cpu_p50_ratio"]
    lines += ["", f"**A plain step costs {ratio}× the bare handler's CPU at p50** (mean "
              f"{turn['plain_cpu_mean_ratio']}×; wall p50 {turn['plain_wall_p50_ratio']}×); "
              f"target ≤ 2×: {verdict(ratio, 2.0, '×')}. Receipts received: "
              f"{turn['receipts']} of {turn['people']}."]
    if ratio > 2.0:
        bare = turn["bare"]["plain"]["cpu"]["p50"]
        lines += [
            "",
            f"**Why.** The bare handler is PTB alone: it parses the update and answers "
            f"through the in-memory request, {bare} ms. A Somos step also opens a "
            "database transaction, finds the chat's pseudonym, reads and opens the sealed draft, "
            "records the update id (dedupe) and the rate limit, runs the flow, seals the draft "
            "again and commits; each of these is small, together they are the step.",
            "",
            "**What would close it.** Not a small change: against a handler with no storage "
            f"2× means {2 * bare:.1f} ms for a step that reads and writes an encrypted draft in a "
            "database. The step's statements are already built once and, with the BEGIN and "
            "the COMMIT, run on the event loop's thread with no trip to SQLite's; what is left "
            "is SQLAlchemy's own work around them (about 70 µs a statement and 200 µs a "
            "transaction here, against a few microseconds for SQLite itself), the draft's "
            "encryption, the flow, and PTB building and parsing the Bot API calls. Keeping the "
            "draft in memory between steps (sealed only at the end or on a timer) would come "
            "closest, at the price of losing a half-written report on a restart.",
        ]
    return [*lines, ""]


def bursts(results: R) -> list[str]:
    lines = ["## 3. Burst through the webhook (`bench/burst.py`)", "",
             "`somos serve` with a webhook on the Bot API double (production key derivation, a "
             "fresh database), one warm-up report, then a crowd completes threat reports. The "
             "**burst** is the target's load: the people arrive within the first minute (a "
             "pamphlet read aloud, a message passed around) and act as people do: they read a "
             "question before tapping (2–6 s), write a place's name in 4–10 s and what happened "
             "in 20–45 s, drawn per person and step from a seeded generator. The **stress** is "
             "harsher than people: everyone sends /start at the same instant and acts the moment "
             "the message they wait for arrives. The double delivers up to 40 updates at a time, "
             "as Telegram does by default; the people are driven from one thread of the bench "
             "process, so it is not the bottleneck (its CPU is in the table). Update → answer: "
             "from the update queued in the double to the bot's next message in that chat, "
             "including the wait for a free delivery connection (queue wait).", ""]
    present = [(key, name, results.get(key)) for key, name in BURST_RUNS
               if results.get(key) is not None]
    for key, _name, burst in present:
        if (why := failed(burst)) is not None:
            lines += [f"{key}: {why}", ""]
    done = [(key, name, burst) for key, name, burst in present if not failed(burst)]
    if not done:
        return [*lines, ""]
    lines += ["| | " + " | ".join(f"{'burst' if b.get('pace') == 'human' else 'stress'}, {name}"
                                  for _key, name, b in done) + " |",
              "|---|" + "---:|" * len(done)]
    rows: list[tuple[str, Any]] = [
        ("people (arriving within s)",
         lambda b: f"{b['people']} ({b.get('arrive_within_s', 0):.0f})"),
        ("receipts received / reports stored / distinct receipts",
         lambda b: f"{b['completed']} / {b['reports_in_database']} / {b['distinct_receipts']}"),
        ("errors (server log, webhook)", lambda b: f"{b['errors_in_log']}, {b['webhook_errors']}"),
        ("update → answer p50 / p95 / p99 / max ms",
         lambda b: " / ".join(ms(b["answer"], k) for k in ("p50", "p95", "p99", "max"))),
        *((f"… p50 / p99 ms of {label}",
           lambda b, action=action: " / ".join(
               ms(b.get("answer_by_action", {}).get(action), k) for k in ("p50", "p99")))
          for action, label in (("start", "/start (a new chat)"), ("press", "a button"),
                                ("text", "a written answer"), ("confirm", "the confirm"))),
        ("confirm → receipt p50 / p99 / max ms",
         lambda b: " / ".join(ms(b["receipt"], k) for k in ("p50", "p99", "max"))),
        ("of which queue wait p50 / p99 ms",
         lambda b: " / ".join(ms(b["queue_wait"], k) for k in ("p50", "p99"))),
        ("last report done after (s)", lambda b: b["last_report_s"]),
        ("server CPU (s) / per report (ms)",
         lambda b: f"{b['server_cpu_s']} / {b['server_cpu_ms_per_report']}"),
        ("server cores busy on average (CPU ÷ time to the last receipt)",
         lambda b: f"{b['server_cpu_s'] / (b['last_report_s'] or b['wall_s']):.2f}"),
        ("bench process CPU (s)", lambda b: b["bench_process_cpu_s"]),
        ("RSS MiB: started / peak (VmHWM) / idle after",
         lambda b: f"{b['rss_mib_started']} / {b['rss_mib_peak']} / {b['rss_mib_idle']} "
                   f"({b['idle_after_s']:.0f} s)"),
    ]
    for label, value in rows:
        lines.append(f"| {label} | " + " | ".join(str(value(b)) for _k, _n, b in done) + " |")
    lines.append("")
    lines += burst_analysis([b for _key, _name, b in done])
    return [*lines, ""]


def burst_analysis(done: list[R]) -> list[str]:
    lines: list[str] = []
    slow = [b for b in done if (b["answer"].get("p99") or 0) >= 1000
            or (b["receipt"].get("p99") or 0) >= 2000]
    for b in (b for b in slow if b.get("pace") == "human"):
        updates = b["answer"].get("n") or 1
        span = b["last_report_s"] or b["wall_s"]
        by = b.get("answer_by_action", {})
        lines += [
            f"**Why the burst on {b['backend']} misses at a human pace.** {b['people']} people "
            f"arriving within {b['arrive_within_s']:.0f} s sent {updates:,} updates in "
            f"{span} s, {updates / span:.0f} a second on average and more while everyone was "
            "still tapping through the closed questions; each cost "
            f"{b['server_cpu_s'] * 1000 / updates:.0f} ms of server CPU on average "
            f"({b['server_cpu_ms_per_report']} ms a report), most of it on the event loop's "
            "one core (the key derivations run in worker threads). Near that core's capacity "
            f"updates queue: the slowest 1% waited {ms(b['answer'], 'p99')} ms (a button "
            f"{ms(by.get('press'), 'p99')}, a written answer {ms(by.get('text'), 'p99')}, "
            f"/start {ms(by.get('start'), 'p99')}: a new chat's pseudonym is a 32 MiB "
            "Argon2id).",
            "",
            "**What would close it.** Less CPU per update on the event loop (section 1 says "
            "where); the key derivations on a process pool sized to the cores; a second "
            "`somos serve` process behind the webhook (any replica can serve any update, but "
            "one chat's order is kept by an in-process lock today: it would need the "
            "database's).",
            "",
        ]
    slow = [b for b in slow if b.get("pace") != "human"]
    if slow:
        worst = max(slow, key=lambda b: b["answer"]["p99"])
        span = worst["last_report_s"] or worst["wall_s"]
        cores = worst["server_cpu_s"] / span
        lines += [
            f"**Why the stress misses by far.** The server is CPU-bound: {worst['people']} "
            f"reports cost {worst['server_cpu_s']} s of server CPU "
            f"({worst['server_cpu_ms_per_report']} ms each), spent over {span} s: "
            f"{cores:.2f} cores on average, on a machine of 2 that others were using too. One "
            "Python process runs the event loop on one core (the key derivations run in threads "
            "and release the GIL, the rest does not), so with every person's update in flight "
            "each one waits behind the others: the p99 is a queueing delay, not a slow step. "
            "The queue wait row shows the double was not what held them.",
            "",
            "**What would close it.** Less CPU per report (section 1: every millisecond saved "
            "there is saved ×14 updates × the crowd here); the key derivations on a process pool "
            "sized to the cores, so the event loop's core serves updates while another hashes "
            "(a button press already costs two Bot API calls, not three). Even with both "
            f"cores for the server alone, this crowd's {worst['server_cpu_s']} s of CPU take at "
            f"least {worst['server_cpu_s'] / 2:.0f} s of wall time, during which every update "
            "competes with the others: p99 under a second for 200 people at once needs a "
            "report to cost a fraction of what it costs now.",
            "",
        ]
    fat = [b for b in done if b["rss_mib_idle"] * 1.048576 >= 150]
    if fat:
        lines += [
            "**Why RSS at idle is over 150 MB.** The server starts at about "
            f"{fat[0]['rss_mib_started']} MiB (Python, SQLAlchemy, FastAPI, PTB, Jinja, the "
            "catalogs, the municipality list and the map's boundaries); it no longer loads the "
            "file decoders (only the sandbox's worker does) nor zxcvbn (only when a password is "
            "set). Each chat pseudonym's Argon2id allocates 32 MiB and each receipt's 19 MiB, "
            "in asyncio's worker threads (up to min(32, cores + 4) at once); `somos serve` "
            "fixes glibc's mmap threshold at 1 MiB, so those blocks go back to the system when "
            "freed, but the heap grown by 200 conversations at once (drafts, ORM objects, "
            "PTB's updates) stays partly resident in the threads' arenas.",
            "",
            "**What would close it.** The start: "
            f"{fat[0]['rss_mib_started']} MiB before the first message is already "
            f"{fat[0]['rss_mib_started'] * 1.048576 / 150:.0%} of the target; what is left is "
            "mostly the frameworks themselves (`python -X importtime`, `tracemalloc`). The "
            "burst: the key derivations on one bounded executor (they are CPU-bound anyway on "
            "2 cores, and fewer threads mean fewer arenas), or `malloc_trim(0)` once a burst "
            "is over.",
            "",
        ]
    broken = [b for b in done if not _clean(b)]
    for b in broken:
        stuck = b.get("stuck_after") or {}
        seen = "; ".join(f"«{text}» ({count})" for text, count in
                         sorted(stuck.items(), key=lambda item: -item[1])[:4])
        lines += [
            f"**Errors and unfinished reports on {b['backend']}.** {b['people'] - b['completed']} "
            f"of {b['people']} people got no receipt; the server logged {b['errors_in_log']} "
            "errors (it logs the kind, `OperationalError`, never the content)"
            + (f"; the last message the unfinished people saw: {seen}" if seen else "")
            + ". The people here do not retry; a person would press again, but the target "
            "is no error. The bench then waited "
            f"{b['wall_s'] - (b['last_report_s'] or 0) - b['idle_after_s']:.0f} s for them "
            "(it now gives up after 60 s without any message; this wait is most of the run's "
            "length when it happens).",
            "",
        ]
    if any(b["backend"] == "sqlite" for b in broken):
        lines += [
            "**Why on SQLite.** A write transaction takes the database's only write lock at "
            "its first statement (`BEGIN IMMEDIATE`, storage/db.py), and "
            "`storage.reports.submit_reports` reads the recovery key and then awaits the "
            "receipts' Argon2id in a worker thread before it writes: the lock is held for the "
            "whole key derivation, and on a machine this loaded that is far longer than the "
            "hash's 23 ms of CPU. Every other chat's step waits behind each confirm; past the "
            "10 s busy timeout the step fails with `OperationalError` (database is locked). "
            "**What would close it**: derive the receipt secrets before the transaction "
            "opens (the code and salt are fresh: nothing comes from the database), so no "
            "transaction awaits a key derivation; then measure again whether the ordinary "
            "steps' commits still queue past the timeout.",
            "",
        ]
    if all(_clean(b) for b in done) and done:
        lines += ["No errors, and every report is stored once: receipts, stored reports and "
                  "distinct receipts all equal the number of people.", ""]
    return lines


def triage(results: R) -> list[str]:
    result = results.get("triage")
    lines = ["## 4. Triage (`bench/triage.py`)", "",
             "A fresh PostgreSQL database, one focal point covering every seeded department (every "
             "report is in their queue), `somos demo seed --seed 42`, then the seeded reports "
             "copied in SQL up to the size (new ids; the same plain columns, sealed payloads "
             "and wrapped keys: the page reads no payload), then `somos serve`: the focal "
             "point signs in and asks for the first page (50 reports) after ten warm-up "
             "requests, timed over loopback HTTP in the bench process.", ""]
    if (why := failed(result)) is not None:
        return [*lines, why, ""]
    assert result is not None
    page = result["first_page"]
    lines += [f"{result['reports'] - result.get('copied', 0):,} reports seeded, "
              f"{result.get('copied', 0):,} copied.", "",
              "| reports | requests | p50 ms | p95 ms | p99 ms | max ms | items on the page |",
              "|---:|---:|---:|---:|---:|---:|---:|",
              f"| {result['reports']:,} | {page['n']} | {ms(page, 'p50')} | {ms(page, 'p95')} | "
              f"{ms(page, 'p99')} | {ms(page, 'max')} | {result['page_items']} |", "",
              f"Target p95 < 50 ms: {verdict(page.get('p95'), 50, ' ms')}."]
    if (page.get("p95") or 0) >= 50:
        lines += ["", "**Why.** `storage.reports.list_queue` selects the reports whose id is among "
                  "the caller's `report_keys` rows, ordered by new reply, urgency, hour and id, "
                  "50 at a time, and no index has that order. `EXPLAIN ANALYZE` on a database "
                  "built the same way (2026-12-02: 2,000 seeded, 98,000 copied): a parallel "
                  "sequential scan of every report, then a sort of all ~80,000 whole rows (sealed "
                  "payloads included) that spills about 100 MB to disk across three processes, "
                  "209 ms for 50 rows; the time grows with the queue, not with the page. **What "
                  "would close it**: an index on `reports (new_reply DESC, urgency_rank, "
                  "created_hour, id)`. Created on that database, the same query walked it in page "
                  "order and stopped after 50 rows: 0.56 ms. For a focal point who sees a small "
                  "share of the reports the walk skips the others' rows; if that share gets "
                  "small, the ordering columns beside `report_keys` (or a per-recipient queue "
                  "table) keep it short. A migration in `storage/`: not this bench's to make."]
    return [*lines, ""]


def exports(results: R) -> list[str]:
    result, tri = results.get("exports"), results.get("triage")
    lines = ["## 5. Exports and seeding (`bench/exports.py`, `bench/export_latency.py`)", "",
             "SQLite installations seeded with `somos demo seed --seed 42` (seven departments), "
             "and a copy of the largest whose rollup tables are rewritten directly (no reports) "
             "as full as the larger number of reports would leave them: every municipality × "
             "kind × category × month cell of the seeded months holds reports, their counts "
             "summing to that number, the coarser tables the sums. `bench/export_latency.py` on "
             "each: count → protect → CSV + HXL + JSON, 15 runs per grouping and profile, taking "
             "turns between the installations, so the machine's changing speed falls on every "
             "size alike.", ""]
    if (why := failed(result)) is not None:
        return [*lines, why, ""]
    assert result is not None
    sizes = [str(s) for s in result["sizes"]] + [str(result["million"])]
    lines += ["| group_by | profile | " + " | ".join(f"{int(s):,} median (p90) ms" for s in sizes)
              + " |", "|---|---|" + "---:|" * len(sizes)]
    for row in result["exports"][sizes[0]]:
        cells = []
        for size in sizes:
            other = next(r for r in result["exports"][size]
                         if (r["group_by"], r["profile"]) == (row["group_by"], row["profile"]))
            cells.append(f"{other['median_ms']} ({other['p90_ms']})")
        lines.append(f"| {row['group_by']} | {row['profile']} | " + " | ".join(cells) + " |")
    rows = result["filled_rollup_rows"]
    lines += ["", f"Rollup rows in the {result['million']:,}-report tables: "
              + ", ".join(f"{name} {count:,}" for name, count in rows.items()) + ".", "",
              f"Ratio {int(sizes[1]):,} ÷ {int(sizes[0]):,} (medians): "
              + ", ".join(f"{k} {v}×" for k, v in result["ratio_largest_to_smallest"].items())
              + ".", ""]
    worst = max(result["ratio_largest_to_smallest"].items(), key=lambda item: item[1])
    group_by, profile = worst[0].split("/")

    def split(size: str) -> dict[str, Any]:
        return next(r for r in result["exports"][size]
                    if (r["group_by"], r["profile"]) == (group_by, profile))

    small, large, full = split(sizes[0]), split(sizes[1]), split(sizes[-1])
    if "read_median_ms" in small:
        lines += [f"Where the time goes ({group_by}, {profile}): reading the rollups "
                  f"(`count_reports`, from `{small['read_table']}` and, for the current month, "
                  "the finest table) and the rest (the table, its protection, the files): "
                  + ", ".join(f"{int(s):,} reports {r['read_median_ms']} + "
                              f"{round(r['median_ms'] - r['read_median_ms'], 1)} ms "
                              f"({r['read_table_rows']:,} rows in the table)"
                              for s, r in zip(sizes, (small, large, full), strict=True))
                  + ".", ""]
    if worst[1] > 1.5 and "read_median_ms" in small:
        lines += [f"**Why the ratio target is missed ({worst[0]}, {worst[1]}×).** The read grows "
                  "with the rows of the rollup table it reads, and they grow with the reports "
                  "until every cell exists: "
                  f"{small['read_table_rows']:,} rows at {int(sizes[0]):,} reports, "
                  f"{large['read_table_rows']:,} at {int(sizes[1]):,}, "
                  f"{full['read_table_rows']:,} in the filled copy (SQLite itself, about a "
                  "microsecond a row here, is most of it). The rest depends mostly on the "
                  "published grid (its protection grows a little with the non-empty cells). "
                  "Until 2026-12-03 the files named every cell anew "
                  "(the same municipality looked up once per category), about 150 ms of a "
                  "default export at every size, which hid the read's growth (1.23× in the run "
                  "before, both sizes two to four times slower than now); with that gone the "
                  "growth is most of what is left. It stops with the table: the filled copy, "
                  f"where every cell exists, takes {full['median_ms']} ms, the most any number "
                  "of reports can cost this grouping. **What would close it**: not another "
                  "rollup table: no table makes seven times more non-empty cells cost the same "
                  "to read. A "
                  "cheaper read per row narrows it: covering indexes on the year table and on "
                  "the finest table's month (tried on copies of these installations, 2026-12-03: "
                  "the read 56 → 45 ms at 50,000 reports, 115 → 93 ms filled, the ratio about "
                  "1.5×), at the price of a wider index for every report's transaction to "
                  "write. The figure that stays put is the bound, the filled copy's.", ""]
    elif worst[1] > 1.5:
        lines += [f"**Why the ratio target is missed ({worst[0]}, {worst[1]}×).** This run "
                  "did not time the read apart; see bench/RESULTS.md (2026-12-03).", ""]
    filled = result["default_export_filled_ms"]
    if filled["median_ms"] >= 300:
        read = (f" ({filled['read_median_ms']} ms of it reading the rollups, "
                f"{filled['read_table_rows']:,} rows in `{filled['read_table']}` and the "
                "current month's in the finest table)") if "read_median_ms" in filled else ""
        lines += [f"**Why the {result['million']:,}-report export misses 300 ms.** It took "
                  f"{filled['median_ms']} ms{read}; the same export took 157–176 ms on "
                  "2026-12-03 (bench/RESULTS.md), so this run's machine was slower, or the "
                  "code grew. The default export is municipality × category over every closed "
                  "month: it reads the year table and the current month from the finest one, "
                  "then protects and writes the 373 × 32 grid. **What would close it**: the "
                  "covering indexes tried above (the read 115 → 93 ms filled), both queries "
                  "in one statement (the current month subtracted in SQL, not in Python), "
                  "then less per-cell Python in `storage/disclosure.py`.", ""]
    lines += ["Seeding (`somos demo seed`, a fresh installation with one focal point; wall time "
              "includes start-up):", "", "| backend | reports | wall s | CPU s | reports/s (wall) "
              "| reports/s (CPU) |", "|---|---:|---:|---:|---:|---:|"]
    seeds = list(result["seeding"])
    if tri and not failed(tri):
        seeds.append({**tri["seed"], "backend": "postgresql"})
    for seed in seeds:
        lines.append(f"| {seed['backend']} | {seed['reports']:,} | {seed['wall_s']} | "
                     f"{seed['cpu_s']} | {seed['reports_per_s_wall']:,} | "
                     f"{seed['reports_per_s_cpu']:,} |")
    return [*lines, ""]


def load(results: R) -> list[str]:
    lines = ["## Load during the run", "",
             "Per bench: its wall time, the cores busy on the whole machine meanwhile "
             "(/proc/stat), how many of them were this bench's processes (their CPU ÷ wall), "
             "and the rest: other people's work on the shared machine.", "",
             "| bench | wall s | cores busy | ours | others | load average after |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, result in results.items():
        run = result["run"]
        lines.append(f"| {name} | {run['wall_s']} | {run['machine_busy_cores']} | "
                     f"{run['ours_cores']} | {run['others_cores']} | {run['loadavg_after']:.2f} |")
    return [*lines, ""]


def render(info: R, results: R) -> str:
    parts = [header(info), at_a_glance(results), conversation(results), per_turn(results),
             bursts(results), triage(results), exports(results), load(results)]
    return "\n".join(line for part in parts for line in part).rstrip() + "\n"


def main() -> None:
    data = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    sys.stdout.write(render(data["info"], data["results"]))


if __name__ == "__main__":
    main()
