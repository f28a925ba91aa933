"""The signed-in person's own account (`/cuenta`): a code to link their Telegram chat for
pings, and a new password (limited like signing in; every session ends after it)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from api.auth import LOGIN_ATTEMPTS, LOGIN_WINDOW
from api.deps import SessionDep, StoreDep
from api.web.forms import Anyone, Triager, read_form, redirect
from api.web.render import render
from api.web.security import SESSION_COOKIE, WebSession, now_of
from flows.messages import N_
from storage.audit import append_audit
from storage.chats import count_attempt
from storage.users import UserError, change_password, start_telegram_link

router = APIRouter(include_in_schema=False)
MSG_CURRENT_PASSWORD = N_("La contraseña actual no es correcta.")
MSG_TOO_MANY_PASSWORDS = N_("Demasiados intentos con la contraseña actual. Espere 15 minutos.")


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
    # Counted in this request's transaction: refusals below return a page, so it commits.
    attempts = await count_attempt(session=session, key=f"password:{current.signed_in.user.id}",
                                   window=LOGIN_WINDOW, now=now_of(request))
    if attempts > LOGIN_ATTEMPTS:
        return _account_page(request, current, error=MSG_TOO_MANY_PASSWORDS, status_code=429)
    try:
        changed = await change_password(
            session=session, user=current.signed_in.user,
            current_password=form.get("current_password", ""),
            new_password=form.get("new_password", ""), argon2_params=store.argon2,
        )
    except UserError as error:
        return _account_page(request, current, error=str(error), status_code=422)
    if not changed:
        return _account_page(request, current, error=MSG_CURRENT_PASSWORD, status_code=403)
    await append_audit(session=session, actor=current.signed_in.user.id,
                       action="user.password_changed")
    response = redirect("/entrar?aviso=clave")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
