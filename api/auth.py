"""Signing in, shared by the JSON API and the web pages: password, then TOTP; and the
limits of `storage.throttle`, applied before any password is checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from api.clock import now_of, sleep_for
from api.problems import Problem
from api.settings import Settings
from flows.messages import N_
from storage.models import User
from storage.staff import PasswordChange, change_own_password
from storage.store import Store
from storage.throttle import Admission, admit_password_check, forget_password_failures
from storage.users import (
    get_user_by_username,
    open_private_key,
    spend_password_check,
    spend_totp,
    verify_password,
)

BAD_LOGIN = N_("Usuario, contraseña o código de verificación incorrectos.")
TOO_MANY_TRIES = N_("Demasiados intentos fallidos desde esta conexión. Espere unos minutos "
                    "antes de intentar otra vez: cada intento fallido alarga la espera.")


def client_address(request: Request) -> str:
    """The client's address: the peer's, or the one a trusted proxy names in
    X-Forwarded-For (ProxyHeadersMiddleware with SOMOS_TRUSTED_PROXIES, in `create_app`)."""
    return request.client.host if request.client else ""


async def _count(request: Request, session: AsyncSession, store: Store,
                 username: str) -> Admission:
    return await admit_password_check(session=session, keyring=store.keyring,
                                      username=username, address=client_address(request),
                                      now=now_of(request))


async def _abide(request: Request, admission: Admission) -> None:
    """Raises the 429 Problem (with Retry-After) of a refusal, or waits the delay asked."""
    if admission.refused:
        raise Problem(429, TOO_MANY_TRIES, headers={"Retry-After": str(admission.retry_after)})
    await sleep_for(request, admission.delay)


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
    *, request: Request, store: Store, session: AsyncSession, settings: Settings,
    username: str, password: str, otp: str | None, allow_enrollment: bool,
) -> SignedIn:
    """Password and TOTP, within the limits of `storage.throttle`. Raises a 401/429 Problem.

    `allow_enrollment`: an account created without TOTP may sign in with its password
    alone, only to enroll a second factor (the web does this; the API never does).
    """
    # Counted in its own transaction, committed at once: a failed sign-in rolls back the
    # request's, and the count must stay (nor may the wait hold the request's locks).
    async with store.transaction() as counting:
        admission = await _count(request, counting, store, username)
    await _abide(request, admission)
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
    await forget_password_failures(session=session, keyring=store.keyring, username=username,
                                   address=client_address(request))
    return SignedIn(user=user, private_key=private_key, must_enroll_totp=enrolling)


async def try_password_change(
    *, request: Request, store: Store, session: AsyncSession, user: User,
    current_password: str, new_password: str,
) -> PasswordChange:
    """`storage.staff.change_own_password` within the limits of `storage.throttle`, for the
    API and the account page: guessing the current password is guessing as at the sign-in.
    Raises a 429 Problem, or UserError for a new password that cannot be used.

    Counted in the request's transaction: its session already holds SQLite's write lock
    (the session was resolved), so a transaction of its own would wait for it. Callers
    answer a wrong password without raising, so the count is committed with it."""
    admission = await _count(request, session, store, user.username)
    await _abide(request, admission)
    return await change_own_password(
        session=session, keyring=store.keyring, user=user, current_password=current_password,
        new_password=new_password, address=client_address(request), argon2_params=store.argon2)
