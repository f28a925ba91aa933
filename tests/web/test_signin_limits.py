"""The sign-in page and the account page under the limits of storage/throttle.py, on both
databases: failing in someone's name from one address does not keep them out, and a
guessable new password is refused saying why, in the page's language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from fastapi import FastAPI

from storage.store import Store
from storage.throttle import FREE_FAILURES, USER_CEILING
from tests.support.api import PAGES_URL, client_for
from tests.support.clock import Held, hold_time
from tests.support.staff import add_staff
from tests.support.web_client import Browser

ATTACKER = ("203.0.113.7", 40000)
PERSON = ("192.0.2.10", 50000)
# Time stands still in every test here: it moves when a test moves it.
pytestmark = pytest.mark.usefixtures("held")


@pytest.fixture
def held(app: FastAPI) -> Held:
    return hold_time(app)


@pytest.fixture
async def attacker(app: FastAPI) -> AsyncIterator[Browser]:
    async with client_for(app, PAGES_URL, peer=ATTACKER) as client:
        yield Browser(client)


@pytest.fixture
async def person(app: FastAPI) -> AsyncIterator[Browser]:
    async with client_for(app, PAGES_URL, peer=PERSON) as client:
        yield Browser(client)


async def test_failing_as_admin_on_the_sign_in_page_does_not_keep_admin_out(
    attacker: Browser, person: Browser, store: Store, held: Held
) -> None:
    admin = await add_staff(store, "admin", "admin")
    tries = [await attacker.sign_in("admin", "una clave que no es", "123456")
             for _ in range(12)]
    assert [t.status_code for t in tries] == [401] * FREE_FAILURES + [429] * 7
    assert "Demasiados intentos fallidos desde esta conexión." in tries[-1].text
    held.sleeps.take()
    signed = await person.sign_in(admin.username, admin.password, admin.otp())
    assert signed.status_code == 303, signed.text
    assert sum(held.sleeps.take()) <= USER_CEILING
    waits = []
    for _ in range(3):
        refused = await attacker.sign_in("admin", "una clave que no es", "123456")
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        held.clock.now += timedelta(seconds=waits[-1])
        assert (await attacker.sign_in("admin", "una clave que no es", "123456")
                ).status_code == 401
    assert waits == [60, 120, 240]


async def test_a_guessable_new_password_is_refused_saying_why(
    person: Browser, store: Store
) -> None:
    tumaco = await add_staff(store, "tumaco")
    assert (await person.sign_in(tumaco.username, tumaco.password, tumaco.otp())
            ).status_code == 303
    weak = await person.submit("/cuenta", "/cuenta/contrasena", {
        "current_password": tumaco.password, "new_password": "Colombia2026!"})
    assert weak.status_code == 422
    assert "Esa contraseña es fácil de adivinar: contiene el nombre de usuario" in weak.text
    await person.get("/idioma/en?volver=/cuenta")
    english = await person.submit("/cuenta", "/cuenta/contrasena", {
        "current_password": tumaco.password, "new_password": "contraseña123"})
    assert english.status_code == 422
    assert "That password is easy to guess: it contains the username" in english.text
    assert "fácil de adivinar" not in english.text
