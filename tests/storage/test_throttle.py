"""The limits on guessing passwords (storage/throttle.py), on SQLite and PostgreSQL: an
address that keeps failing waits longer each time; failing in someone's name never keeps
them out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from storage.keyfile import Keyring
from storage.models import RateLimit
from storage.store import Store
from storage.throttle import (
    FREE_FAILURES,
    PAIR_WINDOW,
    USER_CEILING,
    Admission,
    address_group,
    admit_password_check,
    forget_password_failures,
)

START = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
ATTACKER = "203.0.113.7"


async def attempt(store: Store, when: datetime, address: str = ATTACKER,
                  username: str = "admin") -> Admission:
    async with store.transaction() as session:
        return await admit_password_check(session=session, keyring=store.keyring,
                                          username=username, address=address, now=when)


async def test_an_address_that_keeps_failing_waits_twice_as_long_each_time(store: Store) -> None:
    free = [await attempt(store, START) for _ in range(FREE_FAILURES)]
    assert free == [Admission()] * FREE_FAILURES
    when = START
    waits = []
    for _ in range(4):
        refused = await attempt(store, when)
        assert refused.refused
        # Asking again before the wait is over changes nothing: refusals are not counted.
        assert await attempt(store, when) == refused
        waits.append(refused.retry_after)
        when += timedelta(seconds=refused.retry_after)
        assert not (await attempt(store, when)).refused  # answered (and failed)
    assert waits == [60, 120, 240, 480]


async def test_a_day_after_its_first_failure_an_address_starts_over(store: Store) -> None:
    for _ in range(FREE_FAILURES):
        await attempt(store, START)
    refusals = [await attempt(store, START + timedelta(seconds=n)) for n in range(30)]
    assert all(r.refused for r in refusals)
    later = START + PAIR_WINDOW
    assert [await attempt(store, later) for _ in range(FREE_FAILURES)] == [Admission()] * 5


async def test_failing_in_someones_name_slows_them_a_little_and_never_stops_them(
    store: Store
) -> None:
    for _ in range(FREE_FAILURES + 7):
        await attempt(store, START)  # five answered, seven refused
    delays = [(await attempt(store, START, address=f"198.51.100.{n}")).delay
              for n in range(1, 20)]
    assert delays == sorted(delays) and delays[0] == 0 and delays[-1] == USER_CEILING
    person = await attempt(store, START, address="192.0.2.10")
    assert not person.refused and 0 < person.delay <= USER_CEILING
    # Another username is not slowed at all.
    assert await attempt(store, START, address="192.0.2.10", username="tumaco") == Admission()


async def test_a_right_password_forgets_that_address_failures_only(store: Store) -> None:
    for address in (ATTACKER, "192.0.2.10"):
        for _ in range(FREE_FAILURES):
            await attempt(store, START, address=address)
    async with store.transaction() as session:
        await forget_password_failures(session=session, keyring=store.keyring,
                                       username="ADMIN", address="192.0.2.10")
    assert not (await attempt(store, START, address="192.0.2.10")).refused
    assert (await attempt(store, START)).refused


async def test_a_burst_of_attempts_gets_one_answer_per_turn(store: Store) -> None:
    for _ in range(FREE_FAILURES):
        await attempt(store, START)
    turn = START + timedelta(minutes=1)
    burst = await asyncio.gather(*(attempt(store, turn) for _ in range(10)))
    assert sum(not admission.refused for admission in burst) == 1
    assert (await attempt(store, turn)).retry_after == 120


async def test_case_and_ipv6_addresses_within_one_64_do_not_buy_more_guesses(
    store: Store
) -> None:
    for n in range(FREE_FAILURES):
        await attempt(store, START, address=f"2001:db8:1:2::{n + 1}",
                      username="Admin" if n % 2 else "admin")
    assert (await attempt(store, START, address="2001:db8:1:2:ffff::9")).refused
    assert not (await attempt(store, START, address="2001:db8:1:3::1")).refused
    assert address_group("::ffff:203.0.113.7") == ATTACKER
    assert address_group("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"


async def test_the_table_holds_neither_usernames_nor_addresses(store: Store) -> None:
    await attempt(store, START)
    async with store.transaction() as session:
        keys = [row.key for row in (await session.exec(select(RateLimit))).all()]
    assert len(keys) == 2
    assert not any("admin" in key or "203.0.113" in key for key in keys)
    # Keyed with the server's pepper: without the key file, a guess cannot be checked.
    other = Keyring.generate()
    async with store.transaction() as session:
        await admit_password_check(session=session, keyring=other, username="admin",
                                   address=ATTACKER, now=START)
        assert len((await session.exec(select(RateLimit))).all()) == 4
