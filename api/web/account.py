"""The signed-in person's own account (`/cuenta`): a code to link their Telegram chat for
pings, and a new password (limited as signing in is; every session ends after it)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from api.auth import try_password_change
from api.deps import SessionDep, StoreDep
from api.problems import Problem
from api.web.forms import Anyone, Triager, read_form, redirect
from api.web.render import render
from api.web.security import SESSION_COOKIE, WebSession
from flows.messages import N_
from storage.users import UserError, start_telegram_link

router = APIRouter(include_in_schema=False)
MSG_CURRENT_PASSWORD = N_("La contraseña actual no es correcta.")


def _account_page(request: Request, current: WebSession, *, link_code: str | None = None,
                  error: str | None = None, status_code: int = 200) -> Response:
    return render(request, "account.html", {
        "current": current, "link": {"code": link_code} if link_code else None, "error": error,
    }, status_code=status_code)


@router.get("/cuenta")
async def account_page(request: Request, current: Anyone) -> Response:
    return _account_page(request, current)


@router.post("/cuenta/telegram")
async def link_telegram(request: Request, session: SessionDep, current: Triager) -> Response:
    await read_form(request, current)
    code = await start_telegram_link(session=session, user=current.signed_in.user,
                                     now=datetime.now(UTC))
    return _account_page(request, current, link_code=code)


@router.post("/cuenta/contrasena")
async def password(request: Request, session: SessionDep, store: StoreDep,
                   current: Anyone) -> Response:
    form = await read_form(request, current)
    # Refusals return a page, so the attempt counted in this transaction is committed.
    try:
        outcome = await try_password_change(
            request=request, store=store, session=session, user=current.signed_in.user,
            current_password=form.get("current_password", ""),
            new_password=form.get("new_password", ""))
    except UserError as error:
        return _account_page(request, current, error=str(error), status_code=422)
    except Problem as problem:  # too many attempts: the wait is in Retry-After
        response = _account_page(request, current, error=str(problem.detail),
                                 status_code=problem.status_code)
        if problem.headers and "Retry-After" in problem.headers:
            response.headers["Retry-After"] = problem.headers["Retry-After"]
        return response
    if outcome == "wrong-password":
        return _account_page(request, current, error=MSG_CURRENT_PASSWORD, status_code=403)
    response = redirect("/entrar?aviso=clave")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
