"""Staff accounts made straight in the store, as `somos users add` would make them."""

from __future__ import annotations

from dataclasses import dataclass

from storage.recovery import recovery_public_key
from storage.store import Store
from storage.users import create_user, get_user_by_username, unlock_private_key
from tests.support.totp import fresh_code

PASSWORD = "una contraseña larga y segura"


@dataclass
class Staff:
    id: str
    username: str
    password: str
    totp_secret: str

    def otp(self) -> str:
        """A code not used before: the server accepts each code once."""
        return fresh_code(self.totp_secret)


async def add_staff(
    store: Store,
    username: str,
    role: str = "focal_point",
    *,
    municipalities: tuple[str, ...] = (),
    departments: tuple[str, ...] = (),
    with_totp: bool = True,
) -> Staff:
    """A staff account; without TOTP it enrolls at its first web sign-in (totp_secret "")."""
    async with store.transaction() as session:
        created = await create_user(
            session=session, keyring=store.keyring, username=username, role=role,
            password=PASSWORD, recovery_public_key=await recovery_public_key(session=session),
            municipalities=municipalities, departments=departments, argon2_params=store.argon2,
            with_totp=with_totp,
        )
    return Staff(created.user.id, username, PASSWORD, created.totp_secret or "")


async def private_key_of(store: Store, username: str) -> tuple[str, bytes]:
    """The account's id and its private key, unlocked with its password."""
    async with store.transaction() as session:
        user = await get_user_by_username(session=session, username=username)
        assert user is not None
        key = await unlock_private_key(user=user, password=PASSWORD)
    assert key is not None
    return user.id, key
