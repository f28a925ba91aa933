"""Login: password + TOTP → an opaque bearer token that carries the unlocked key."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated

import pyotp
from fastapi import APIRouter, Depends, Form
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import SessionDep, SettingsDep, StoreDep
from api.problems import Problem
from storage.audit import append_audit
from storage.chats import count_attempt
from storage.sessions import create_session
from storage.users import (
    get_user_by_username,
    spend_password_check,
    totp_secret_of,
    unlock_private_key,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
BAD_LOGIN = "Usuario, contraseña o código de verificación incorrectos."
LOGIN_ATTEMPTS = 10
LOGIN_WINDOW = timedelta(minutes=15)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


@router.post("/token")
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    otp: Annotated[str | None, Form(description="Código TOTP de 6 dígitos")] = None,
) -> Token:
    """Checks password and TOTP, unlocks the user's private key into a new session."""
    # Counted in its own transaction: a failed login rolls back the request's one.
    who = hashlib.sha256(form.username.casefold().encode()).hexdigest()[:48]
    async with store.transaction() as counting:
        attempts = await count_attempt(session=counting, key=f"login:{who}",
                                       window=LOGIN_WINDOW, now=datetime.now(UTC))
    if attempts > LOGIN_ATTEMPTS:
        raise Problem(429, "Demasiados intentos de inicio de sesión. Espere 15 minutos.",
                      headers={"Retry-After": str(int(LOGIN_WINDOW.total_seconds()))})
    user = await get_user_by_username(session=session, username=form.username)
    if user is None or user.disabled:
        await spend_password_check(form.password)
        raise Problem(401, BAD_LOGIN, code="bad-credentials")
    private_key = await unlock_private_key(user=user, password=form.password)
    if private_key is None:
        raise Problem(401, BAD_LOGIN, code="bad-credentials")
    secret = totp_secret_of(keyring=store.keyring, user=user)
    if settings.require_totp or secret is not None:
        if secret is None or not otp or not pyotp.TOTP(secret).verify(otp.strip(), valid_window=1):
            raise Problem(401, BAD_LOGIN, code="bad-credentials")
    lifetime = timedelta(hours=settings.session_hours)
    token = await create_session(
        session=session, user=user, private_key=private_key, lifetime=lifetime
    )
    await append_audit(session=session, actor=user.id, action="auth.login")
    return Token(access_token=token, expires_in=int(lifetime.total_seconds()))
