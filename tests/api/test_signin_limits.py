"""Sign-in limits over the API, attacked as docs/THREAT_MODEL.md says: someone who knows a
username fails in its name from their own address, or pretends to be many addresses.
The person keeps signing in; the attacker waits longer after each failure."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.auth import TOO_MANY_TRIES
from api.settings import Settings
from storage.store import Store
from storage.throttle import FREE_FAILURES, USER_CEILING
from tests.support.api import client_for
from tests.support.clock import Held, hold_time
from tests.support.staff import Staff, add_staff

ATTACKER = ("203.0.113.7", 40000)
PERSON = ("192.0.2.10", 50000)
PROXY = ("127.0.0.1", 60000)  # trusted by default, as a reverse proxy on this machine
TOKEN = "/api/v1/auth/token"
# Time stands still in every test here: it moves when a test moves it.
pytestmark = pytest.mark.usefixtures("held")


@pytest.fixture
def held(app: FastAPI) -> Held:
    return hold_time(app)


async def guess(client: httpx.AsyncClient, username: str = "admin",
                headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.post(TOKEN, headers=headers, data={
        "username": username, "password": "una clave que no es", "otp": "123456"})


async def sign_in(client: httpx.AsyncClient, staff: Staff,
                  headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.post(TOKEN, headers=headers, data={
        "username": staff.username, "password": staff.password, "otp": staff.otp()})


async def test_failing_as_admin_from_one_address_does_not_keep_admin_out(
    app: FastAPI, store: Store, held: Held
) -> None:
    admin = await add_staff(store, "admin", "admin")
    async with client_for(app, peer=ATTACKER) as attacker:
        tries = [await guess(attacker) for _ in range(12)]
        assert [r.status_code for r in tries] == [401] * FREE_FAILURES + [429] * 7
        assert tries[-1].json()["detail"] == TOO_MANY_TRIES
        assert tries[-1].headers["content-type"].startswith("application/problem+json")
        # Wrong guesses from addresses that are not held back still count for "admin".
        for n in range(1, 9):
            async with client_for(app, peer=(f"198.51.100.{n}", 1)) as elsewhere:
                assert (await guess(elsewhere)).status_code == 401
        held.sleeps.take()
        async with client_for(app, peer=PERSON) as person:
            signed = await sign_in(person, admin)
        assert signed.status_code == 200, signed.text
        assert 0 < sum(held.sleeps.take()) <= USER_CEILING  # slowed a little, never stopped
        waits = []
        for _ in range(3):
            refused = await guess(attacker)
            assert refused.status_code == 429
            waits.append(int(refused.headers["Retry-After"]))
            held.clock.now += timedelta(seconds=waits[-1])
            assert (await guess(attacker)).status_code == 401
        assert waits == [60, 120, 240]


async def test_another_address_is_never_refused_a_change_of_password(
    app: FastAPI, store: Store
) -> None:
    tumaco = await add_staff(store, "tumaco")
    async with client_for(app, peer=PERSON) as person:
        token = (await sign_in(person, tumaco)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    wrong = {"current_password": "no es la actual", "new_password": "una clave nueva larga"}
    async with client_for(app, peer=ATTACKER) as stolen:
        statuses = [(await stolen.post("/api/v1/me/password", headers=headers, json=wrong))
                    .status_code for _ in range(FREE_FAILURES + 2)]
        assert statuses == [403] * FREE_FAILURES + [429, 429]
    async with client_for(app, peer=PERSON) as person:
        still = await person.post("/api/v1/me/password", headers=headers, json=wrong)
        assert still.status_code == 403
        # Failures from the stolen session count against signing in from there too.
        async with client_for(app, peer=ATTACKER) as attacker:
            assert (await sign_in(attacker, tumaco)).status_code == 429
        changed = await person.post("/api/v1/me/password", headers=headers, json={
            "current_password": tumaco.password, "new_password": "una clave nueva larga"})
        assert changed.status_code == 204


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    app: FastAPI, store: Store
) -> None:
    admin = await add_staff(store, "admin", "admin")
    # Sent straight to Somos, the header changes nothing: one address, whatever it says.
    async with client_for(app, peer=ATTACKER) as attacker:
        rotating = [await guess(attacker, headers={"X-Forwarded-For": f"198.51.100.{n}"})
                    for n in range(FREE_FAILURES + 1)]
    assert rotating[-1].status_code == 429
    # Through the proxy, each client is its own address.
    async with client_for(app, peer=PROXY) as proxy:
        for _ in range(FREE_FAILURES):
            attacked = await guess(proxy, headers={"X-Forwarded-For": "198.51.100.77"})
            assert attacked.status_code == 401
        assert (await guess(proxy, headers={"X-Forwarded-For": "198.51.100.77"})
                ).status_code == 429
        assert (await guess(proxy, headers={"X-Forwarded-For": "198.51.100.78"})
                ).status_code == 401
        # A client cannot slip an address in front of the one the proxy appends.
        spoofed = await guess(proxy, headers={"X-Forwarded-For": "192.0.2.10, 198.51.100.77"})
        assert spoofed.status_code == 429
        signed = await sign_in(proxy, admin, headers={"X-Forwarded-For": PERSON[0]})
        assert signed.status_code == 200, signed.text


async def test_the_trusted_proxies_are_a_setting(
    store: Store, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, fast_kdf=True, trusted_proxies="10.0.0.0/8")
    app = create_app(settings, store=store)
    hold_time(app)
    async with client_for(app, peer=("10.1.2.3", 1)) as proxy:
        for n in range(FREE_FAILURES + 1):
            assert (await guess(proxy, headers={"X-Forwarded-For": f"198.51.100.{n}"})
                    ).status_code == 401
    async with client_for(app, peer=PROXY) as loopback:  # no longer trusted
        statuses = [(await guess(loopback, headers={"X-Forwarded-For": f"198.51.100.{n}"}))
                    .status_code for n in range(FREE_FAILURES + 1)]
    assert statuses[-1] == 429
    with pytest.raises(ValueError, match="no es una dirección IP"):
        Settings(trusted_proxies="proxy.local")
