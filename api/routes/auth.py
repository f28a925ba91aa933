"""Login: password + TOTP → an opaque bearer token that carries the unlocked key."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.auth import check_login
from api.deps import SessionDep, SettingsDep, StoreDep
from storage.audit import append_audit
from storage.sessions import create_session

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


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
    signed_in = await check_login(store=store, session=session, settings=settings,
                                  username=form.username, password=form.password, otp=otp,
                                  allow_enrollment=False)
    lifetime = timedelta(hours=settings.session_hours)
    token = await create_session(
        session=session, user=signed_in.user, private_key=signed_in.private_key,
        lifetime=lifetime,
    )
    await append_audit(session=session, actor=signed_in.user.id, action="auth.login")
    return Token(access_token=token, expires_in=int(lifetime.total_seconds()))
