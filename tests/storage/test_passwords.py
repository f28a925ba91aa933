"""How strong a new password must be (storage/passwords.py), wherever one is set: each
refusal says why in our own words, and what to do instead."""

from __future__ import annotations

import pytest

from storage import passwords
from storage.models import User
from storage.passwords import password_refusal
from storage.recovery import recovery_public_key
from storage.store import Store
from storage.users import (
    UserError,
    change_password,
    create_user,
    generate_password,
    verify_password,
)
from tests.support.staff import PASSWORD, add_staff


@pytest.mark.parametrize(("password", "reason"), [
    ("Colombia2026!", passwords.MSG_OWN_WORDS),
    ("contraseña123", passwords.MSG_OWN_WORDS),
    ("admin12345678", passwords.MSG_OWN_WORDS),
    ("corto", passwords.MSG_TOO_SHORT),
    ("zzzzzzzzzzzzzzzz", passwords.MSG_REPEATS),
    ("98765432109876", passwords.MSG_SEQUENCES),
    ("1234567890qwerty", passwords.MSG_COMMON),
    ("z" * 300, passwords.MSG_REPEATS),  # judged by its start, however long
])
def test_guessable_passwords_are_refused_with_a_reason(password: str, reason: str) -> None:
    assert password_refusal(password, username="admin") == reason


def test_every_reason_says_what_to_do_instead() -> None:
    reasons = [passwords.MSG_OWN_WORDS, passwords.MSG_REPEATS, passwords.MSG_SEQUENCES,
               passwords.MSG_DATES, passwords.MSG_COMMON, passwords.MSG_GUESSABLE]
    assert all(reason.endswith("Use una frase de cuatro o más palabras que no suelan ir "
                               "juntas.") for reason in reasons)


def test_the_username_itself_makes_a_password_weak() -> None:
    assert password_refusal("personeria.tumaco", username="x") is None
    assert password_refusal("personeria.tumaco", username="personeria.tumaco") is not None


def test_passphrases_and_generated_passwords_pass() -> None:
    assert password_refusal(PASSWORD, username="admin") is None
    assert password_refusal("caballo batería grapa correcto", username="admin") is None
    assert all(password_refusal(generate_password(), username="admin") is None
               for _ in range(200))


async def test_no_account_is_made_or_changed_with_a_weak_password(store: Store) -> None:
    async with store.transaction() as session:
        with pytest.raises(UserError, match="contiene el nombre de usuario"):
            await create_user(session=session, keyring=store.keyring, username="admin",
                              role="admin", password="Colombia2026!", argon2_params=store.argon2,
                              recovery_public_key=await recovery_public_key(session=session))
    staff = await add_staff(store, "tumaco")
    async with store.transaction() as session:
        user = await session.get(User, staff.id)
        assert user is not None
        with pytest.raises(UserError, match="fácil de adivinar"):
            await change_password(session=session, user=user, current_password=staff.password,
                                  new_password="contraseña123", argon2_params=store.argon2)
        assert await verify_password(user=user, password=staff.password)
