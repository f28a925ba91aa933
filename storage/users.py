"""Staff accounts: password hash, sealed private key, TOTP secret sealed with the server key."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import crypto
from storage.audit import append_audit
from storage.keyfile import Keyring
from storage.models import User, UserArea, utcnow
from storage.passwords import password_refusal
from storage.sessions import revoke_sessions
from storage.text import N_

ROLES = ("focal_point", "analyst", "admin")
# Usernames: 2 to 64 characters without spaces (they appear in audit views and URLs):
# no space of any kind, control character or invisible formatting mark (zero-width, bidi).
# Spelled out, not `\S`: Python's `\s`, pydantic's Rust engine's and JSON Schema's
# (ECMA-262) are three different sets, and this one pattern is both what `create_user`
# enforces and what the OpenAPI document states (api/routes/users.py).
USERNAME_PATTERN = (r"^[^\x00-\x20\x7f-\xa0\u1680\u180e\u2000-\u200f\u2028-\u202f"
                    r"\u205f-\u206f\u3000\ufeff]{2,64}$")
USERNAME = re.compile(USERNAME_PATTERN)
_hasher = PasswordHasher()


class UserError(ValueError):
    """A request about users that cannot be done as asked (the message says why)."""


@dataclass(frozen=True)
class NewUser:
    user: User
    totp_secret: str | None  # None: enrolled with a QR code at first sign-in


async def refuse_weak_password(password: str, *, username: str) -> None:
    """Raises UserError saying why, for a password `storage.passwords` finds too weak."""
    refusal = await asyncio.to_thread(password_refusal, password, username=username)
    if refusal is not None:
        raise UserError(refusal)


def generate_password() -> str:
    """A password to hand over once: 20 url-safe characters (~120 bits)."""
    return secrets.token_urlsafe(15)


def generate_totp_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode()


def totp_aad(user_id: str) -> bytes:
    return b"somos/totp\x00" + user_id.encode()


async def create_user(
    *,
    session: AsyncSession,
    keyring: Keyring,
    username: str,
    role: str,
    password: str,
    recovery_public_key: bytes | None,
    municipalities: Sequence[str] = (),
    departments: Sequence[str] = (),
    argon2_params: crypto.Argon2Params = crypto.DEFAULT_ARGON2,
    with_totp: bool = True,
) -> NewUser:
    """Creates a staff user with a fresh key pair sealed under the password.

    Without `with_totp`, the second factor is enrolled at the first sign-in on the web.
    """
    if not USERNAME.fullmatch(username):
        raise UserError(N_("Escriba un nombre de usuario de 2 a 64 caracteres, sin espacios."))
    if role not in ROLES:
        raise UserError(f"Rol desconocido: {role}. Use uno de: {', '.join(ROLES)}.")
    existing = await session.exec(select(User).where(col(User.username) == username))
    if existing.first() is not None:
        raise UserError(f"Ya existe un usuario llamado {username}.")
    await refuse_weak_password(password, username=username)

    private_key, public_key = crypto.generate_keypair()
    password_hash, sealed = await asyncio.gather(
        asyncio.to_thread(_hasher.hash, password),
        asyncio.to_thread(crypto.seal_with_password, password, private_key, params=argon2_params),
    )
    totp_secret = generate_totp_secret() if with_totp else None
    user = User(
        username=username,
        role=role,
        password_hash=password_hash,
        public_key=public_key,
        crypto_private_key=sealed,
        created_at=utcnow(),
    )
    if totp_secret is not None:
        user.crypto_totp_secret = keyring.seal(totp_secret.encode(), totp_aad(user.id))
    if recovery_public_key is not None:
        user.crypto_private_key_recovery = crypto.hpke_seal(
            recovery_public_key, private_key, _recovery_info(user.id)
        )
    session.add(user)
    for code in municipalities:
        session.add(UserArea(user_id=user.id, municipality_code=code))
    for code in departments:
        session.add(UserArea(user_id=user.id, department_code=code))
    await session.flush()
    return NewUser(user=user, totp_secret=totp_secret)


async def get_user_by_username(*, session: AsyncSession, username: str) -> User | None:
    return (await session.exec(select(User).where(col(User.username) == username))).first()


@dataclass
class StaffEntry:
    """A staff account and the areas it works in (DIVIPOLA codes, sorted)."""

    user: User
    municipalities: list[str] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)


async def list_staff(
    *, session: AsyncSession, user_id: str | None = None
) -> list[StaffEntry]:
    """Every staff account by username (or only `user_id`'s), with its areas."""
    users_query = select(User).order_by(col(User.username))
    areas_query = select(UserArea)
    if user_id is not None:
        users_query = users_query.where(col(User.id) == user_id)
        areas_query = areas_query.where(col(UserArea.user_id) == user_id)
    users = (await session.exec(users_query)).all()
    entries = {user.id: StaffEntry(user) for user in users}
    for area in (await session.exec(areas_query)).all():
        entry = entries.get(area.user_id)
        if entry is None:
            continue
        if area.municipality_code:
            entry.municipalities.append(area.municipality_code)
        if area.department_code:
            entry.departments.append(area.department_code)
    for entry in entries.values():
        entry.municipalities.sort()
        entry.departments.sort()
    return list(entries.values())


async def count_users(*, session: AsyncSession) -> int:
    return len((await session.exec(select(User.id))).all())


def totp_secret_of(*, keyring: Keyring, user: User) -> str | None:
    if user.crypto_totp_secret is None:
        return None
    return keyring.open(user.crypto_totp_secret, totp_aad(user.id)).decode()


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step `code` belongs to, one step of clock drift either side; None if
    it is none of them. Every candidate is compared, in constant time."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    typed = "".join(code.split()).encode()
    found = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), typed):
            found = step
    return found


async def _spend_step(*, session: AsyncSession, user: User, step: int) -> bool:
    """Records `step` as used unless it, or a later one, already was: one winner even when
    two sign-ins race (the conditional update serializes on the row)."""
    result = await session.exec(
        update(User)
        .where(col(User.id) == user.id,
               or_(col(User.totp_last_step).is_(None), col(User.totp_last_step) < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


async def spend_totp(
    *, session: AsyncSession, keyring: Keyring, user: User, code: str, now: datetime
) -> bool:
    """True if `code` is the account's current code and was not used before: a code seen
    over someone's shoulder, or replayed from a captured request, does not sign in again."""
    secret = totp_secret_of(keyring=keyring, user=user)
    if secret is None:
        return False
    step = totp_step(secret, code, now)
    return step is not None and await _spend_step(session=session, user=user, step=step)


async def enroll_totp(
    *, session: AsyncSession, keyring: Keyring, user: User, secret: str, code: str,
    now: datetime,
) -> bool:
    """Stores a second factor for an account that has none yet (first web sign-in), if
    `code` proves the person's app has it; the code is spent like a sign-in's."""
    if user.crypto_totp_secret is not None:
        raise UserError(N_("Esta cuenta ya tiene verificación en dos pasos."))
    step = totp_step(secret, code, now)
    if step is None or not await _spend_step(session=session, user=user, step=step):
        return False
    user.crypto_totp_secret = keyring.seal(secret.encode(), totp_aad(user.id))
    session.add(user)
    await session.flush()
    return True


def _pending_totp_aad(user_id: str, token_hash: str) -> bytes:
    return b"somos/v1/totp-enroll\x00" + user_id.encode() + b"\x00" + token_hash.encode()


def seal_pending_totp(*, keyring: Keyring, user_id: str, token_hash: str, secret: str) -> str:
    """A second factor offered at the first sign-in, for the enrollment form to carry:
    sealed with the server key, bound to the account and to its session (`token_hash`),
    as URL-safe base64 text. Nothing is stored until `enroll_totp`."""
    sealed = keyring.seal(secret.encode(), _pending_totp_aad(user_id, token_hash))
    return base64.urlsafe_b64encode(sealed).decode()


def open_pending_totp(
    *, keyring: Keyring, user_id: str, token_hash: str, sealed: str
) -> str | None:
    """The secret `seal_pending_totp` sealed for this account and session; None for text
    that is not one (altered, another session's, or sealed under a retired server key)."""
    try:
        blob = base64.urlsafe_b64decode(sealed)
        return keyring.open(blob, _pending_totp_aad(user_id, token_hash)).decode()
    except (crypto.DecryptionError, binascii.Error, ValueError):
        return None


_DUMMY_HASH = _hasher.hash("somos: a password nobody has")


async def spend_password_check(password: str) -> None:
    """As slow as a real check, for unknown users: timing must not tell who exists."""
    try:
        await asyncio.to_thread(_hasher.verify, _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        pass


async def verify_password(*, user: User, password: str) -> bool:
    """One slow hash: whether this is the user's password (the key stays sealed)."""
    try:
        await asyncio.to_thread(_hasher.verify, user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return True


async def open_private_key(*, user: User, password: str) -> bytes | None:
    """Opens the private key sealed under the password (a second slow derivation)."""
    try:
        return await asyncio.to_thread(crypto.open_with_password, password, user.crypto_private_key)
    except crypto.DecryptionError:
        return None


async def unlock_private_key(*, user: User, password: str) -> bytes | None:
    """Checks the password and opens the user's private key; None if either fails."""
    if not await verify_password(user=user, password=password):
        return None
    return await open_private_key(user=user, password=password)


async def areas_of(*, session: AsyncSession, user_id: str) -> list[UserArea]:
    query = select(UserArea).where(col(UserArea.user_id) == user_id)
    return list((await session.exec(query)).all())


LINK_LIFETIME = timedelta(minutes=15)


def _link_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def telegram_chat_aad(user_id: str) -> bytes:
    return b"somos/v1/staff-chat\x00" + user_id.encode()


async def issue_link_code(*, session: AsyncSession, user: User, now: datetime) -> str:
    """A one-time code the staff member sends as `/vincular CODE` from their own Telegram."""
    code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))
    user.telegram_link_hash = _link_hash(code)
    user.telegram_link_expires_at = now + LINK_LIFETIME
    session.add(user)
    await session.flush()
    return code


async def start_telegram_link(*, session: AsyncSession, user: User, now: datetime) -> str:
    """`issue_link_code` for the signed-in staff member (the API and the account page),
    written to the audit log."""
    code = await issue_link_code(session=session, user=user, now=now)
    await append_audit(session=session, actor=user.id, action="user.link_code_issued")
    return code


async def link_chat(
    *, session: AsyncSession, keyring: Keyring, code: str, chat_id: int, now: datetime
) -> User | None:
    """Links the chat to the user whose live code this is; the code works once."""
    user = (
        await session.exec(select(User).where(col(User.telegram_link_hash) == _link_hash(code)))
    ).first()
    if (
        user is None or user.disabled or user.telegram_link_expires_at is None
        or user.telegram_link_expires_at <= now
    ):
        return None
    user.crypto_telegram_chat = keyring.seal(str(chat_id).encode(), telegram_chat_aad(user.id))
    user.telegram_link_hash = None
    user.telegram_link_expires_at = None
    session.add(user)
    await session.flush()
    return user


def staff_chat_of(*, keyring: Keyring, user: User) -> int | None:
    if user.crypto_telegram_chat is None:
        return None
    return int(keyring.open(user.crypto_telegram_chat, telegram_chat_aad(user.id)))


def _recovery_info(user_id: str) -> bytes:
    return b"somos/v1/user-recovery\x00" + user_id.encode()


async def _reseal(
    *, session: AsyncSession, user: User, private_key: bytes, new_password: str,
    argon2_params: crypto.Argon2Params,
) -> None:
    await refuse_weak_password(new_password, username=user.username)
    user.password_hash, user.crypto_private_key = await asyncio.gather(
        asyncio.to_thread(_hasher.hash, new_password),
        asyncio.to_thread(crypto.seal_with_password, new_password, private_key,
                          params=argon2_params),
    )
    session.add(user)
    await session.flush()
    # Every open session dies: whoever knew the old password is out at once.
    await revoke_sessions(session=session, user_id=user.id)


async def change_password(
    *, session: AsyncSession, user: User, current_password: str, new_password: str,
    argon2_params: crypto.Argon2Params = crypto.DEFAULT_ARGON2,
) -> bool:
    """Re-seals the same private key under a new password; False if the current one is wrong."""
    private_key = await unlock_private_key(user=user, password=current_password)
    if private_key is None:
        return False
    await _reseal(session=session, user=user, private_key=private_key,
                  new_password=new_password, argon2_params=argon2_params)
    return True


async def restore_with_recovery(
    *, session: AsyncSession, user: User, recovery_private_key: bytes, new_password: str,
    argon2_params: crypto.Argon2Params = crypto.DEFAULT_ARGON2,
) -> None:
    """For a focal point who lost the password: the organization recovery key opens their
    private key, which is sealed again under a new password. Old reports stay readable."""
    if user.crypto_private_key_recovery is None:
        raise UserError(N_("Esta cuenta no tiene copia para recuperación."))
    try:
        private_key = crypto.hpke_open(recovery_private_key, user.crypto_private_key_recovery,
                                       _recovery_info(user.id))
    except crypto.DecryptionError:
        raise UserError(N_("La llave de recuperación no corresponde a esta instalación.")) from None
    await _reseal(session=session, user=user, private_key=private_key,
                  new_password=new_password, argon2_params=argon2_params)


async def disable_user(*, session: AsyncSession, user: User) -> None:
    """A disabled user can no longer log in, and their open sessions die at once."""
    user.disabled = True
    session.add(user)
    await session.flush()
    await revoke_sessions(session=session, user_id=user.id)
