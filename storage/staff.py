"""Creating staff accounts: one rule for the CLI, the API and the admin pages.

Each refusal is a (msgid, value) pair: the msgid is Spanish text marked for the
catalogs, with a `{value}` placeholder where it names what was typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import crypto
from storage.audit import append_audit
from storage.keyfile import Keyring
from storage.models import User
from storage.recovery import recovery_public_key
from storage.text import N_
from storage.throttle import forget_password_failures
from storage.users import (
    ROLES,
    USERNAME,
    NewUser,
    change_password,
    create_user,
    disable_user,
    get_user_by_username,
    restore_with_recovery,
)

MSG_BAD_USERNAME = N_("Escriba un nombre de usuario de 2 a 64 caracteres, sin espacios.")
MSG_USERNAME_TAKEN = N_("Ya existe un usuario llamado «{value}». Elija otro nombre.")
MSG_BAD_ROLE = N_("Elija el rol de la cuenta: focal_point, analyst o admin.")

Refusal = tuple[str, str]


class StaffRefused(ValueError):
    """The account cannot be created as asked; `refusals` say why, each with its value."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        super().__init__(" ".join(msgid.format(value=value) for msgid, value in refusals))
        self.refusals = list(refusals)


async def staff_refusals(*, session: AsyncSession, username: str, role: str) -> list[Refusal]:
    """What is wrong with a new account's name and role (empty when nothing is)."""
    refusals: list[Refusal] = []
    if not USERNAME.fullmatch(username):
        refusals.append((MSG_BAD_USERNAME, ""))
    elif await get_user_by_username(session=session, username=username) is not None:
        refusals.append((MSG_USERNAME_TAKEN, username))
    if role not in ROLES:
        refusals.append((MSG_BAD_ROLE, ""))
    return refusals


async def create_staff(
    *,
    session: AsyncSession,
    keyring: Keyring,
    actor: str,
    via: str,
    username: str,
    role: str,
    password: str,
    municipalities: Sequence[str] = (),
    departments: Sequence[str] = (),
    argon2_params: crypto.Argon2Params = crypto.DEFAULT_ARGON2,
    with_totp: bool = False,
) -> NewUser:
    """Checks, creates and audits a staff account; its areas are DIVIPOLA codes the caller
    has already parsed. Raises StaffRefused, or RecoveryKeyMissing before `somos init`.

    Without `with_totp` the second factor is enrolled at the first web sign-in.
    """
    refusals = await staff_refusals(session=session, username=username, role=role)
    if refusals:
        raise StaffRefused(refusals)
    created = await create_user(
        session=session, keyring=keyring, username=username, role=role, password=password,
        recovery_public_key=await recovery_public_key(session=session),
        municipalities=municipalities, departments=departments, argon2_params=argon2_params,
        with_totp=with_totp,
    )
    await append_audit(session=session, actor=actor, action="user.created",
                       detail={"user": created.user.id, "role": role, "via": via})
    return created


async def disable_staff(*, session: AsyncSession, user: User, actor: str, via: str) -> None:
    """Disables and audits an account (no-op if it already is): it cannot sign in, and its
    open sessions end at once; its reports stay readable by the others."""
    if user.disabled:
        return
    await disable_user(session=session, user=user)
    await append_audit(session=session, actor=actor, action="user.disabled",
                       detail={"user": user.id, "via": via})


async def restore_staff(
    *, session: AsyncSession, user: User, actor: str, via: str, recovery_private_key: bytes,
    new_password: str, argon2_params: crypto.Argon2Params = crypto.DEFAULT_ARGON2,
) -> None:
    """Gives a lost-password account a new password with the organization recovery key
    (its reports stay readable) and audits it. Raises UserError when the key does not fit."""
    await restore_with_recovery(session=session, user=user,
                                recovery_private_key=recovery_private_key,
                                new_password=new_password, argon2_params=argon2_params)
    await append_audit(session=session, actor=actor, action="user.restored",
                       detail={"user": user.id, "via": via})


PasswordChange = Literal["changed", "wrong-password"]


async def change_own_password(
    *, session: AsyncSession, keyring: Keyring, user: User, current_password: str,
    new_password: str, address: str, argon2_params: crypto.Argon2Params = crypto.DEFAULT_ARGON2,
) -> PasswordChange:
    """A staff member changes their password (the API and the account page) from `address`;
    a change is audited, forgets that address's failures and ends every session. Raises
    UserError for a new password that cannot be used.

    Callers first pass `storage.throttle.admit_password_check` (`api.auth` does): a wrong
    current password is a guess like a wrong sign-in, under the same limits."""
    if not await change_password(session=session, user=user, current_password=current_password,
                                 new_password=new_password, argon2_params=argon2_params):
        return "wrong-password"
    await forget_password_failures(session=session, keyring=keyring, username=user.username,
                                   address=address)
    await append_audit(session=session, actor=user.id, action="user.password_changed")
    return "changed"
