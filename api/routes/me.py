"""The signed-in staff member's own settings: linking their Telegram chat for pings."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from api.auth import try_password_change
from api.deps import CurrentSession, SessionDep, StoreDep, TriageSession
from api.problems import Problem, problem_response, problem_responses
from storage.users import LINK_LIFETIME, UserError, start_telegram_link

router = APIRouter(prefix="/api/v1/me", tags=["me"])


class LinkCode(BaseModel):
    code: str
    expires_in: int
    instructions: str


@router.post("/telegram-link", status_code=201, responses=problem_responses(401, 403))
async def telegram_link(current: TriageSession, session: SessionDep) -> LinkCode:
    """A one-time code to send as `/vincular CODE` to the bot from your own Telegram."""
    code = await start_telegram_link(session=session, user=current.user, now=datetime.now(UTC))
    return LinkCode(
        code=code, expires_in=int(LINK_LIFETIME.total_seconds()),
        instructions=f"Desde su propio Telegram, escriba al bot: /vincular {code}",
    )


class PasswordChange(BaseModel):
    # Any constraint makes pydantic refuse a lone surrogate, which Argon2 could not encode.
    current_password: str = Field(min_length=1)
    new_password: str = Field(min_length=12, max_length=256)


@router.post("/password", status_code=204,
             responses=problem_responses(400, 401, 403, 422, 429))
async def password(
    body: PasswordChange, request: Request, current: CurrentSession, session: SessionDep,
    store: StoreDep,
) -> Response:
    """Changes the password; the same private key is sealed again, so old reports stay
    readable. Every session of the account ends: sign in again with the new password.
    A weak new password is refused (422 `weak-password`, saying why). Wrong current
    passwords are limited as sign-ins are, per account and address (429, Retry-After)."""
    try:
        outcome = await try_password_change(
            request=request, store=store, session=session, user=current.user,
            current_password=body.current_password, new_password=body.new_password)
    except UserError as error:
        raise Problem(422, str(error), code="weak-password") from None
    # Returned, not raised: the attempt counted in this transaction must be committed.
    if outcome == "wrong-password":
        return problem_response(403, "La contraseña actual no es correcta.", "bad-credentials")
    return Response(status_code=204)
