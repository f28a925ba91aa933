"""Signing in, shared by the JSON API and the web pages: password, then TOTP."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from api.problems import Problem
from api.settings import Settings
from flows.messages import N_
from storage.chats import count_attempt
from storage.models import User
from storage.store import Store
from storage.users import (
    get_user_by_username,
    open_private_key,
    spend_password_check,
    spend_totp,
    verify_password,
)

BAD_LOGIN = N_("Usuario, contraseña o código de verificación incorrectos.")
LOGIN_ATTEMPTS = 10
LOGIN_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class SignedIn:
    user: User
    private_key: bytes = field(repr=False)
    # The account has no second factor yet: the web asks to enroll one before anything else.
    must_enroll_totp: bool = False


def _bad_login() -> Problem:
    """One refusal for every wrong part; as any 401 (RFC 9110), it names the scheme to use."""
    return Problem(401, BAD_LOGIN, code="bad-credentials", headers={"WWW-Authenticate": "Bearer"})


def needs_totp_enrollment(settings: Settings, user: User) -> bool:
    return settings.require_totp and user.crypto_totp_secret is None


async def check_login(
    *, store: Store, session: AsyncSession, settings: Settings, username: str, password: str,
    otp: str | None, allow_enrollment: bool,
) -> SignedIn:
    """Password and TOTP, with attempts counted per username. Raises a 401/429 Problem.

    `allow_enrollment`: an account created without TOTP may sign in with its password
    alone, only to enroll a second factor (the web does this; the API never does).
    """
    # Counted in its own transaction: a failed login rolls back the request's one.
    who = hashlib.sha256(username.casefold().encode()).hexdigest()[:48]
    async with store.transaction() as counting:
        attempts = await count_attempt(session=counting, key=f"login:{who}",
                                       window=LOGIN_WINDOW, now=datetime.now(UTC))
    if attempts > LOGIN_ATTEMPTS:
        raise Problem(429, N_("Demasiados intentos de inicio de sesión. Espere 15 minutos."),
                      headers={"Retry-After": str(int(LOGIN_WINDOW.total_seconds()))})
    user = await get_user_by_username(session=session, username=username)
    if user is None or user.disabled:
        await spend_password_check(password)
        raise _bad_login()
    # Every refusal costs exactly one slow hash, so timing cannot tell a right password
    # with a wrong code from a wrong password; the key is opened only after both pass.
    if not await verify_password(user=user, password=password):
        raise _bad_login()
    enrolled = user.crypto_totp_secret is not None
    enrolling = not enrolled and allow_enrollment and needs_totp_enrollment(settings, user)
    if not enrolling and (settings.require_totp or enrolled):
        # Each code signs in once: the step it belongs to is spent with the sign-in.
        if not otp or not await spend_totp(session=session, keyring=store.keyring, user=user,
                                           code=otp, now=datetime.now(UTC)):
            raise _bad_login()
    private_key = await open_private_key(user=user, password=password)
    if private_key is None:
        raise _bad_login()
    return SignedIn(user=user, private_key=private_key, must_enroll_totp=enrolling)
