"""Open cases for colleagues who joined an area later (`/equipo`): who is waiting for cases
this session can open, and the grant (`storage.grants`, as the API and `somos reports
grant`). The admin page of an account offers the same grant (`admin_users`)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import SessionDep
from api.web.forms import Triager, read_form
from api.web.render import render
from api.web.security import WebSession
from storage.grants import Granted, GrantError, grant_open_cases, grantable_by, staff_opener
from storage.models import User
from storage.triage import MSG_NO_SUCH_USER
from storage.users import get_user_by_username

router = APIRouter(include_in_schema=False)


async def grant_from_page(session: AsyncSession, current: WebSession,
                          target: User) -> Granted | str:
    """The grant from this page's session, or the refusal's msgid."""
    try:
        return await grant_open_cases(
            session=session, user=target, via="web", now=datetime.now(UTC),
            opener=staff_opener(user=current.signed_in.user,
                                private_key=current.signed_in.private_key))
    except GrantError as error:
        return str(error)


async def _team_page(request: Request, session: AsyncSession, current: WebSession, *,
                     granted: Granted | None = None, granted_to: str = "",
                     error: str | None = None, status_code: int = 200) -> Response:
    return render(request, "team.html", {
        "current": current, "error": error, "grant": granted, "granted_to": granted_to,
        "colleagues": await grantable_by(session=session, user=current.signed_in.user),
    }, status_code=status_code)


@router.get("/equipo")
async def team_page(request: Request, session: SessionDep, current: Triager) -> Response:
    return await _team_page(request, session, current)


@router.post("/equipo")
async def grant(request: Request, session: SessionDep, current: Triager) -> Response:
    form = await read_form(request, current)
    username = form.get("username", "")
    target = await get_user_by_username(session=session, username=username)
    if target is None:
        return await _team_page(request, session, current, status_code=422,
                                error=MSG_NO_SUCH_USER.replace("{value}", username))
    outcome = await grant_from_page(session, current, target)
    if isinstance(outcome, str):
        return await _team_page(request, session, current, error=outcome, status_code=422)
    return await _team_page(request, session, current, granted=outcome,
                            granted_to=target.username)
