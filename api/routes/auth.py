"""Login: password + TOTP → an opaque bearer token that carries the unlocked key."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import pyotp
from fastapi import APIRouter, Depends, Form
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import SessionDep, SettingsDep, StoreDep
from api.problems import Problem
from storage.audit import append_audit
from storage.sessions import create_session
from storage.users import get_user_by_username, totp_secret_of, unlock_private_key

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
BAD_LOGIN = "Usuario, contraseña o código de verificación incorrectos."


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
    user = await get_user_by_username(session=session, username=form.username)
    if user is None or user.disabled:
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
