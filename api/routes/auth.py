"""Login: password + TOTP → an opaque bearer token that carries the unlocked key."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel

from api.auth import check_login
from api.deps import SessionDep, SettingsDep, StoreDep
from api.params import STORABLE
from api.problems import problem_responses
from storage.audit import append_audit
from storage.sessions import create_session

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


@router.post("/token", responses=problem_responses(400, 401, 422, 429))
async def login(
    request: Request,
    # OAuth2's password form; FastAPI reads an empty form field as a missing one, so the
    # document says at least one character (grant_type, scope, client_* are not used here).
    username: Annotated[str, Form(min_length=1, pattern=STORABLE)],
    password: Annotated[str, Form(min_length=1, json_schema_extra={"format": "password"})],
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    otp: Annotated[str | None, Form(description="Código TOTP de 6 dígitos")] = None,
) -> Token:
    """Checks password and TOTP, unlocks the user's private key into a new session.

    Failed attempts slow down: from one address, after five for a username, the next
    ones are refused (429, Retry-After) for a wait that doubles with each failure; the
    right password and code from another address still sign in at once."""
    signed_in = await check_login(request=request, store=store, session=session,
                                  settings=settings, username=username, password=password,
                                  otp=otp, allow_enrollment=False)
    lifetime = timedelta(hours=settings.session_hours)
    token = await create_session(
        session=session, user=signed_in.user, private_key=signed_in.private_key,
        lifetime=lifetime,
    )
    await append_audit(session=session, actor=signed_in.user.id, action="auth.login")
    return Token(access_token=token, expires_in=int(lifetime.total_seconds()))
