"""Signing in and out, the page language, and the second factor at the first sign-in.

`/entrar` checks the password and code with the API's own `check_login`; an account
without a second factor gets a session that reaches only `/verificacion`, where the
offered secret travels in the form sealed by storage, bound to the account and session.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import qrcode  # type: ignore[import-untyped]
import qrcode.image.svg  # type: ignore[import-untyped]
from fastapi import APIRouter, Request, Response
from markupsafe import Markup

from api.auth import check_login
from api.clock import now_of
from api.deps import SessionDep, SettingsDep, StoreDep
from api.problems import Problem
from api.web.forms import Anyone, Enrolling, form_text, home_of, redirect, safe_next
from api.web.render import LOCALE_COOKIE, render
from api.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    WebSession,
    check_csrf,
    new_login_csrf,
    secure_cookies,
    set_session_cookie,
)
from bot.i18n import SUPPORTED
from flows.messages import N_
from storage.audit import append_audit
from storage.keyfile import Keyring
from storage.sessions import create_session, revoke_session
from storage.users import (
    UserError,
    enroll_totp,
    generate_totp_secret,
    open_pending_totp,
    seal_pending_totp,
)

router = APIRouter(include_in_schema=False)
ISSUER = "Somos"
MSG_PASSWORD_CHANGED = N_("Su contraseña cambió. Inicie sesión con la nueva.")
MSG_SIGNED_OUT = N_("Su sesión se cerró.")
MSG_BAD_CODE = N_("El código no coincide. Revise la hora del teléfono e intente de nuevo.")
MSG_ENROLL_EXPIRED = N_("El código QR venció. Cargue la página otra vez.")


@router.get("/")
async def home(current: Anyone) -> Response:
    return redirect(home_of(current.signed_in.user.role))


# --- Signing in and out ------------------------------------------------------------------


def _login_page(request: Request, *, error: str | None = None, status_code: int = 200,
                notice: str | None = None, username: str = "") -> Response:
    csrf = new_login_csrf()
    response = render(request, "login.html", {
        "csrf": csrf, "error": error, "notice": notice, "username": username,
        "next": safe_next(request.query_params.get("siguiente")),
    }, status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict",
                        path="/entrar", secure=secure_cookies(request), max_age=3600)
    return response


@router.get("/entrar")
async def login_page(request: Request) -> Response:
    notice = {"salio": MSG_SIGNED_OUT, "clave": MSG_PASSWORD_CHANGED}.get(
        request.query_params.get("aviso", ""))
    return _login_page(request, notice=notice)


@router.post("/entrar")
async def login(request: Request, session: SessionDep, store: StoreDep,
                settings: SettingsDep) -> Response:
    form = await request.form()
    check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE), form)
    username = form_text(form.get("username", ""))
    try:
        signed_in = await check_login(
            request=request, store=store, session=session, settings=settings,
            username=username, password=str(form.get("password", "")),
            otp=str(form.get("otp", "")) or None, allow_enrollment=True,
        )
    except Problem as problem:
        response = _login_page(request, error=str(problem.detail),
                               status_code=problem.status_code, username=username)
        if problem.headers and "Retry-After" in problem.headers:
            response.headers["Retry-After"] = problem.headers["Retry-After"]
        return response
    now = now_of(request)
    token = await create_session(
        session=session, user=signed_in.user, private_key=signed_in.private_key, now=now,
        lifetime=min(timedelta(minutes=settings.web_idle_minutes),
                     timedelta(hours=settings.session_hours)),
    )
    await append_audit(session=session, actor=signed_in.user.id, action="auth.login",
                       detail={"via": "web"})
    target = "/verificacion" if signed_in.must_enroll_totp else safe_next(form.get("next"))
    response = redirect(target if target != "/" else home_of(signed_in.user.role))
    set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/entrar")
    return response


@router.post("/salir")
async def logout(request: Request, session: SessionDep, current: Enrolling) -> Response:
    check_csrf(current.csrf, await request.form())
    await revoke_session(session=session, token_hash=current.signed_in.token_hash)
    await append_audit(session=session, actor=current.signed_in.user.id, action="auth.logout")
    response = redirect("/entrar?aviso=salio")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/idioma/{chosen}")
async def choose_language(request: Request, chosen: str) -> Response:
    """English or Spanish for these pages (a cookie, nothing stored; Spanish by default)."""
    response = redirect(safe_next(request.query_params.get("volver")))
    response.set_cookie(LOCALE_COOKIE, chosen if chosen in SUPPORTED else "es",
                        samesite="strict", path="/", secure=secure_cookies(request),
                        max_age=365 * 24 * 3600)
    return response


# --- Second factor at the first sign-in ------------------------------------------------


def _enroll_page(request: Request, keyring: Keyring, current: WebSession, *,
                 error: str | None = None, status_code: int = 200) -> Response:
    secret = generate_totp_secret()
    sealed = seal_pending_totp(keyring=keyring, user_id=current.signed_in.user.id,
                               token_hash=current.signed_in.token_hash, secret=secret)
    uri = pyotp.TOTP(secret).provisioning_uri(name=current.signed_in.user.username,
                                              issuer_name=ISSUER)
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    return render(request, "enroll.html", {
        "current": current, "bare": True, "qr": Markup(svg),  # noqa: S704 - SVG made here from our own URI
        "secret_groups": [secret[i:i + 4] for i in range(0, len(secret), 4)],
        "sealed": sealed, "error": error,
    }, status_code=status_code)


@router.get("/verificacion")
async def enroll_page(request: Request, store: StoreDep, current: Enrolling) -> Response:
    if current.signed_in.user.crypto_totp_secret is not None:
        return redirect(home_of(current.signed_in.user.role))
    return _enroll_page(request, store.keyring, current)


@router.post("/verificacion")
async def enroll(request: Request, session: SessionDep, store: StoreDep,
                 current: Enrolling) -> Response:
    form = await request.form()
    check_csrf(current.csrf, form)
    user = current.signed_in.user
    if user.crypto_totp_secret is not None:
        return redirect(home_of(user.role))
    secret = open_pending_totp(keyring=store.keyring, user_id=user.id,
                               token_hash=current.signed_in.token_hash,
                               sealed=str(form.get("sealed", "")))
    if secret is None:
        return _enroll_page(request, store.keyring, current, error=MSG_ENROLL_EXPIRED,
                            status_code=422)
    try:
        enrolled = await enroll_totp(session=session, keyring=store.keyring, user=user,
                                     secret=secret, code=str(form.get("otp", "")),
                                     now=datetime.now(UTC))
    except UserError:
        return redirect(home_of(user.role))
    if not enrolled:
        return _enroll_page(request, store.keyring, current, error=MSG_BAD_CODE,
                            status_code=422)
    await append_audit(session=session, actor=user.id, action="user.totp_enrolled")
    return redirect(home_of(user.role))
