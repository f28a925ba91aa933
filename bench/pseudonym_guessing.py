"""What a guessed chat id costs whoever holds a copy of the database and the key file.

The anonymity issue's acceptance: tried against the stored pseudonyms, each guess must
cost at least 20 ms of CPU and 16 MiB of memory.

    .venv/bin/python bench/pseudonym_guessing.py [--guesses 10000] [--chats 20]

Builds an installation in a temporary directory (SQLite and a real key file) where a few
chats leave what the bot leaves (draft, file, message ids, language, rate limit), keyed
by their pseudonyms. Then plays the attacker in a fresh process, so the memory it
reports is the guessing's own: copies the database and the key file, opens the epoch
peppers with the key file, and tries the candidate chat ids (the real ones hidden among
random others) against every stored pseudonym, with libsodium's Argon2id (PyNaCl; the
fastest code at hand, the attacker's choice) for 16-byte peppers and argon2-cffi for the
32-byte ones of older epochs, as anyone reading this repository could. It also tries the
old fast pseudonym, HMAC-SHA256 of the id under every pepper of the key file, on the same
candidates. Prints one JSON line: CPU
time per guess (`time.process_time`), wall time, peak memory added (Linux VmHWM), what
each method found, and the whole space of 10^10 Telegram ids extrapolated.

Not part of `make test`: timings belong here, never in pass/fail tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from nacl import bindings as sodium

from storage.attachments import File, put_draft_attachment
from storage.chats import count_attempt, record_messages, set_locale
from storage.drafts import save_draft
from storage.epochs import PSEUDONYM_ARGON2, PSEUDONYM_BYTES, epoch_aad
from storage.keyfile import load_keyring
from storage.migrate import upgrade
from storage.store import open_store

ID_SPACE = 10**10
SECONDS_PER_YEAR = 365.25 * 24 * 3600
TABLES = (("drafts", "pseudonym"), ("draft_attachments", "pseudonym"),
          ("chat_traces", "pseudonym"), ("chat_preferences", "pseudonym"),
          ("rate_limits", "key"))


async def install(data_dir: Path, chat_ids: list[int]) -> None:
    """An installation whose chats left rows under their pseudonyms."""
    store = open_store(database_url=f"sqlite:///{data_dir / 'somos.db'}",
                       key_file=data_dir / "somos-keys.json", fast_kdf=True)
    try:
        await upgrade(store.engine)
        now = datetime.now(UTC)
        for chat_id in chat_ids:
            pseudonym = await store.chats.current(chat_id, now=now)
            async with store.transaction() as session:
                await save_draft(session=session, keyring=store.keyring, pseudonym=pseudonym,
                                 state_json="{}", now=now, ttl=timedelta(minutes=30))
                await put_draft_attachment(
                    session=session, keyring=store.keyring, pseudonym=pseudonym,
                    file=File({"kind": "photo"}, b"jpeg"), now=now, ttl=timedelta(minutes=30))
                await record_messages(session=session, keyring=store.keyring,
                                      pseudonym=pseudonym, message_ids=[1, 2], now=now)
                await set_locale(session=session, pseudonym=pseudonym, locale="en")
                await count_attempt(session=session, key=f"{pseudonym}:messages",
                                    window=timedelta(minutes=1), now=now)
    finally:
        await store.close()


def peak_rss() -> int:
    """The process's peak resident memory (KiB) since the last reset."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


def reset_peak_rss() -> int:
    """Resets the peak to the current resident memory (Linux: clear_refs 5); returns it.
    Imports and the database read peak higher than the guessing's baseline, so the
    process's lifetime peak (ru_maxrss) would hide what the guessing adds."""
    Path("/proc/self/clear_refs").write_text("5")
    return peak_rss()


def attack(copy_dir: Path, candidates: list[int]) -> dict[str, object]:
    """The attacker's side: a copied database and key file, and the candidates."""
    keyring = load_keyring(copy_dir / "somos-keys.json")
    db = sqlite3.connect(copy_dir / "somos.db")
    try:
        stored = {str(name).partition(":")[0]
                  for table, column in TABLES
                  for (name,) in db.execute(f"SELECT {column} FROM {table}")}  # noqa: S608
        peppers = [(epoch_id, keyring.open(sealed, epoch_aad(epoch_id)))
                   for epoch_id, sealed in db.execute("SELECT id, crypto_pepper FROM chat_epochs")]
    finally:
        db.close()
    t, m, p = (PSEUDONYM_ARGON2.time_cost, PSEUDONYM_ARGON2.memory_cost,
               PSEUDONYM_ARGON2.parallelism)

    started_cpu = time.process_time()
    fast_found = {chat_id for chat_id in candidates for pepper_id in keyring.peppers
                  if keyring.pseudonym(chat_id, "chat", pepper_id=pepper_id) in stored}
    fast_cpu = time.process_time() - started_cpu

    rss_before = reset_peak_rss()
    started_cpu, started_wall = time.process_time(), time.perf_counter()
    found = set()
    for chat_id in candidates:
        secret = f"chat\x00{chat_id}".encode()
        for epoch_id, pepper in peppers:
            if len(pepper) == sodium.crypto_pwhash_SALTBYTES and p == 1:
                digest = sodium.crypto_pwhash_alg(PSEUDONYM_BYTES, secret, pepper, t, m * 1024,
                                                  sodium.crypto_pwhash_ALG_ARGON2ID13)
            else:
                digest = hash_secret_raw(secret, pepper, t, m, p, PSEUDONYM_BYTES, Type.ID)
            if f"{epoch_id}.{digest.hex()}" in stored:
                found.add(chat_id)
    cpu = time.process_time() - started_cpu
    wall = time.perf_counter() - started_wall
    rss_after = peak_rss()

    guesses = len(candidates) * len(peppers)
    per_guess = cpu / guesses
    return {
        "guesses": guesses, "epochs": len(peppers), "stored_names": len(stored),
        "argon2": {"time_cost": t, "memory_kib": m, "parallelism": p},
        "cpu_s": round(cpu, 1), "cpu_ms_per_guess": round(per_guess * 1000, 1),
        "wall_ms_per_guess": round(wall / guesses * 1000, 1),
        "peak_rss_added_mib": round((rss_after - rss_before) / 1024, 1),
        "rss_before_mib": round(rss_before / 1024, 1),
        "found": sorted(found),
        "id_space_core_years_per_epoch": round(per_guess * ID_SPACE / SECONDS_PER_YEAR, 1),
        "fast_hmac_found": sorted(fast_found),
        "fast_hmac_us_per_guess": round(fast_cpu / (len(candidates) * len(keyring.peppers))
                                        * 1e6, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guesses", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--attack", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attack is not None:
        candidates = json.loads((args.attack / "candidates.json").read_text())
        print(json.dumps(attack(args.attack, candidates)))
        return

    rng = random.Random(args.seed)  # noqa: S311 (test data, not secrets)
    ids = rng.sample(range(10**9, 8 * 10**9), args.guesses)
    real = ids[: args.chats]
    rng.shuffle(ids)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, copy_dir = Path(tmp) / "data", Path(tmp) / "copy"
        data_dir.mkdir()
        copy_dir.mkdir()
        asyncio.run(install(data_dir, real))
        for name in ("somos.db", "somos-keys.json"):
            shutil.copy2(data_dir / name, copy_dir / name)
        (copy_dir / "candidates.json").write_text(json.dumps(ids))
        result = subprocess.run(  # noqa: S603 (this same script)
            [sys.executable, __file__, "--attack", str(copy_dir)],
            check=True, capture_output=True, text=True,
        ).stdout
    report = json.loads(result)
    report["real_chats"] = len(real)
    report["all_real_found"] = sorted(real) == report["found"]
    report["found"] = len(report["found"])
    print(json.dumps(report))


if __name__ == "__main__":
    main()
