"""Which open cases a newcomer is owed (routing's rule, not the area alone) and who can give
them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage import crypto
from storage.grants import (
    GrantError,
    grant_open_cases,
    pending_for,
    recovery_opener,
    staff_opener,
)
from storage.models import Report, User
from storage.reports import NewReport, read_report
from storage.routing import create_rule
from storage.store import Store
from storage.users import disable_user, get_user_by_username
from tests.support.places import BARBACOAS, NARINO, TUMACO
from tests.support.reports import submit, threat
from tests.support.staff import add_staff, private_key_of

NOW = datetime(2026, 12, 2, 15, tzinfo=UTC)


async def user(store: Store, username: str) -> User:
    async with store.transaction() as session:
        found = await get_user_by_username(session=session, username=username)
    assert found is not None
    return found


async def pending(store: Store, username: str) -> list[str]:
    async with store.transaction() as session:
        return [r.id for r in await pending_for(session=session, user=await user(store, username))]


async def disable(store: Store, username: str) -> None:
    async with store.transaction() as session:
        found = await get_user_by_username(session=session, username=username)
        assert found is not None
        await disable_user(session=session, user=found)


async def test_a_newcomer_is_owed_what_routing_sends_them_today_and_no_more(store: Store) -> None:
    await add_staff(store, "tumaco1", municipalities=(TUMACO,))
    await add_staff(store, "narino1", departments=(NARINO,))
    in_tumaco = await submit(store, threat(TUMACO, description="uno"))
    in_barbacoas = await submit(store, threat(BARBACOAS, description="dos"))
    survey = await submit(store, NewReport(kind="priority", category="priority.water",
                                           municipality_code=TUMACO, urgency="normal",
                                           answers={"concerns": ["priority.water"]}))
    closed = await submit(store, threat(TUMACO, description="tres"))
    async with store.transaction() as session:
        report = await session.get(Report, closed)
        assert report is not None
        report.status = "closed"

    await add_staff(store, "tumaco2", municipalities=(TUMACO,))
    # Municipality beats department: Tumaco's open case only, never the survey or the closed one.
    assert await pending(store, "tumaco2") == [in_tumaco]
    await add_staff(store, "narino2", departments=(NARINO,))
    assert await pending(store, "narino2") == [in_barbacoas]
    assert survey not in await pending(store, "narino2")

    # A rule naming someone for stigmatization in Tumaco owes them no threat.
    await add_staff(store, "especialista")
    async with store.transaction() as session:
        specialist = await get_user_by_username(session=session, username="especialista")
        assert specialist is not None
        await create_rule(session=session, actor="operator", user_id=specialist.id,
                          municipality_code=TUMACO, kind="stigma")
    assert await pending(store, "especialista") == []
    # A rule for threats in Tumaco does, and wins over the areas from now on.
    async with store.transaction() as session:
        await create_rule(session=session, actor="operator", user_id=specialist.id,
                          municipality_code=TUMACO, kind="threat")
    assert await pending(store, "especialista") == [in_tumaco]
    assert await pending(store, "tumaco2") == []

    # A disabled account and an analyst are owed nothing.
    await add_staff(store, "analista", role="analyst")
    assert await pending(store, "analista") == []
    await disable(store, "especialista")
    assert await pending(store, "especialista") == []


async def test_the_recovery_key_opens_every_case_and_a_wrong_one_none(
    store: Store, recovery_keys: tuple[bytes, bytes]
) -> None:
    await add_staff(store, "tumaco1", municipalities=(TUMACO,))
    reports = [await submit(store, threat(description=f"caso {n}")) for n in range(3)]
    await disable(store, "tumaco1")
    await add_staff(store, "tumaco2", municipalities=(TUMACO,))
    newcomer = await user(store, "tumaco2")
    wrong = crypto.generate_keypair()[0]
    with pytest.raises(GrantError, match="no abre"):
        async with store.transaction() as session:
            await grant_open_cases(session=session, opener=recovery_opener(wrong),
                                   user=newcomer, via="cli", now=NOW)
    assert len(await pending(store, "tumaco2")) == 3

    # A colleague without the cases grants none and names nobody: the holder left.
    await add_staff(store, "tumaco3", municipalities=(TUMACO,))
    _, colleague_key = await private_key_of(store, "tumaco3")
    async with store.transaction() as session:
        none = await grant_open_cases(
            session=session, user=newcomer, via="web", now=NOW,
            opener=staff_opener(user=await user(store, "tumaco3"), private_key=colleague_key))
    assert (none.granted, none.not_opened, none.holders) == (0, 3, ())

    progress: list[int] = []
    async with store.transaction() as session:
        done = await grant_open_cases(session=session, opener=recovery_opener(recovery_keys[0]),
                                      user=newcomer, via="cli", now=NOW,
                                      progress=progress.append)
    assert (done.granted, done.not_opened, sum(progress)) == (3, 0, 3)
    user_id, key = await private_key_of(store, "tumaco2")
    async with store.transaction() as session:
        for report_id in reports:
            found = await read_report(session=session, user_id=user_id, private_key=key,
                                      report_id=report_id)
            assert found is not None
            assert found.content["answers"]["description"].startswith("caso")
