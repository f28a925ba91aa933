"""Sign-in, second-factor enrollment, the focal point's queue and report pages, the account.

Actions call the same functions as the JSON API, so rules and messages are the
same on both; an API Problem becomes a message on the page.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

import pyotp
import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from pydantic import ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import LOGIN_ATTEMPTS, LOGIN_WINDOW, check_login
from api.deps import SessionDep, SettingsDep, StoreDep
from api.labels import municipality_name
from api.problems import Problem, http_problem
from api.routes import me as me_api
from api.routes import reports as reports_api
from api.routes import triage as triage_api
from api.web import labels
from api.web.render import LOCALE_COOKIE, locale_of, render
from api.web.security import (
    API_PREFIXES,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfRefused,
    EnrollmentRequired,
    LoginRequired,
    PageForbidden,
    WebSession,
    check_csrf,
    new_login_csrf,
    now_of,
    secure_cookies,
    set_session_cookie,
    web_session,
)
from api.web.summary import answer_lines
from bot.i18n import SUPPORTED, translations
from flows.messages import N_
from flows.municipalities import Catalog
from storage import crypto
from storage.audit import append_audit
from storage.chats import count_attempt
from storage.models import User
from storage.sessions import create_session, revoke_session
from storage.triage import CLOSING_REASONS, REFERRAL_ENTITIES, TRANSITIONS
from storage.users import UserError, areas_of, change_password, enroll_totp, generate_totp_secret

router = APIRouter(include_in_schema=False)
ISSUER = "Somos"
INLINE_TYPES = ("image/jpeg", "image/png", "image/webp", "audio/ogg", "audio/mpeg", "audio/mp4")
DONE = {
    "tomado": N_("Usted tomó este reporte."),
    "estado": N_("El estado quedó guardado."),
    "nota": N_("La nota quedó guardada."),
    "mensaje": N_("El mensaje quedó listo. La persona lo leerá con su código."),
    "compartido": N_("El reporte quedó compartido."),
}
MSG_PASSWORD_CHANGED = N_("Su contraseña cambió. Inicie sesión con la nueva.")
MSG_SIGNED_OUT = N_("Su sesión se cerró.")
MSG_BAD_CODE = N_("El código no coincide. Revise la hora del teléfono e intente de nuevo.")
MSG_ENROLL_EXPIRED = N_("El código QR venció. Cargue la página otra vez.")
MSG_BAD_FILTER = N_("Un filtro no era válido y no se aplicó.")
MSG_CURRENT_PASSWORD = N_("La contraseña actual no es correcta.")
MSG_YOU = N_("Usted")
MSG_BAD_STATUS = N_("Revise el estado: elija uno de la lista, y una referencia de hasta 120 "
                    "caracteres.")
MSG_TOO_MANY_PASSWORDS = N_("Demasiados intentos con la contraseña actual. Espere 15 minutos.")
MSG_PAGE_FAILED = N_("No se pudo mostrar esta página. Intente de nuevo en un momento.")
PAGE_ERRORS = {
    404: N_("Esta página no existe. Revise la dirección o vuelva al inicio."),
    405: N_("Esta dirección no acepta esa acción. Vuelva al inicio."),
}


def gettext(locale: str, msgid: str) -> str:
    return translations(locale).gettext(msgid)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(value: object) -> str:
    """Only a path of this site (never //host or a full URL) after signing in."""
    text = value if isinstance(value, str) else ""
    return text if text.startswith("/") and not text.startswith(("//", "/\\")) else "/"


class PageUser:
    """A dependency: the live web session, for the given roles only."""

    def __init__(self, *roles: str, enrolling: bool = False) -> None:
        self.roles = roles
        self.enrolling = enrolling

    async def __call__(
        self, request: Request, session: SessionDep, settings: SettingsDep
    ) -> WebSession:
        current = await web_session(request, session, settings, enrolling=self.enrolling)
        request.state.web = current
        if self.roles and current.opened.user.role not in self.roles:
            raise PageForbidden()
        return current


Anyone = Annotated[WebSession, Depends(PageUser())]
Triager = Annotated[WebSession, Depends(PageUser("focal_point", "admin"))]
Enrolling = Annotated[WebSession, Depends(PageUser(enrolling=True))]


def home_of(role: str) -> str:
    return "/panel" if role == "analyst" else "/bandeja"


@router.get("/")
async def home(current: Anyone) -> Response:
    return redirect(home_of(current.opened.user.role))


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
            store=store, session=session, settings=settings, username=username,
            password=str(form.get("password", "")), otp=str(form.get("otp", "")) or None,
            allow_enrollment=True,
        )
    except Problem as problem:
        return _login_page(request, error=str(problem.detail), status_code=problem.status_code,
                           username=username)
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
    await revoke_session(session=session, token_hash=current.opened.token_hash)
    await append_audit(session=session, actor=current.opened.user.id, action="auth.logout")
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


def _enroll_aad(current: WebSession) -> bytes:
    return b"somos/v1/totp-enroll\x00" + current.opened.user.id.encode() + b"\x00" + \
        current.opened.token_hash.encode()


def _enroll_page(request: Request, store: Any, current: WebSession, *, error: str | None = None,
                 status_code: int = 200) -> Response:
    secret = generate_totp_secret()
    sealed = store.keyring.seal(secret.encode(), _enroll_aad(current))
    uri = pyotp.TOTP(secret).provisioning_uri(name=current.opened.user.username,
                                              issuer_name=ISSUER)
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    return render(request, "enroll.html", {
        "current": current, "bare": True, "qr": Markup(svg),  # noqa: S704 - SVG made here from our own URI
        "secret_groups": [secret[i:i + 4] for i in range(0, len(secret), 4)],
        "sealed": base64.urlsafe_b64encode(sealed).decode(), "error": error,
    }, status_code=status_code)


@router.get("/verificacion")
async def enroll_page(request: Request, store: StoreDep, settings: SettingsDep,
                      current: Enrolling) -> Response:
    if current.opened.user.crypto_totp_secret is not None:
        return redirect(home_of(current.opened.user.role))
    return _enroll_page(request, store, current)


@router.post("/verificacion")
async def enroll(request: Request, session: SessionDep, store: StoreDep,
                 current: Enrolling) -> Response:
    form = await request.form()
    check_csrf(current.csrf, form)
    user = current.opened.user
    if user.crypto_totp_secret is not None:
        return redirect(home_of(user.role))
    try:
        secret = store.keyring.open(base64.urlsafe_b64decode(str(form.get("sealed", ""))),
                                    _enroll_aad(current)).decode()
    except (crypto.DecryptionError, binascii.Error, ValueError):
        return _enroll_page(request, store, current, error=MSG_ENROLL_EXPIRED, status_code=422)
    try:
        enrolled = await enroll_totp(session=session, keyring=store.keyring, user=user,
                                     secret=secret, code=str(form.get("otp", "")),
                                     now=datetime.now(UTC))
    except UserError:
        return redirect(home_of(user.role))
    if not enrolled:
        return _enroll_page(request, store, current, error=MSG_BAD_CODE, status_code=422)
    await append_audit(session=session, actor=user.id, action="user.totp_enrolled")
    return redirect(home_of(user.role))


# --- The queue ---------------------------------------------------------------------------

QUEUE_FILTERS = ("estado", "urgencia", "tipo", "municipio", "vencidos")


async def _area_municipalities(session: AsyncSession, current: WebSession) -> list[tuple[str, str]]:
    """The municipalities a focal point may filter by: those of their areas."""
    areas = await areas_of(session=session, user_id=current.opened.user.id)
    catalog = Catalog.load(departments=None)
    codes: set[str] = {a.municipality_code for a in areas if a.municipality_code}
    for area in areas:
        if area.department_code:
            codes.update(m.code for m in catalog.in_department(area.department_code))
    return sorted(((code, municipality_name(code)) for code in codes), key=lambda p: p[1])


@router.get("/bandeja")
async def queue_page(request: Request, session: SessionDep, current: Triager) -> Response:
    params = request.query_params
    status = params.get("estado") or None
    urgency = params.get("urgencia") or None
    kind = params.get("tipo") or None
    municipality = params.get("municipio") or None
    overdue = True if params.get("vencidos") == "1" else None
    warning = None
    if (status and status not in labels.STATUS) or (urgency and urgency not in labels.URGENCY) \
            or (kind and kind not in labels.KIND) \
            or (municipality and not (municipality.isdigit() and len(municipality) == 5)):
        status = urgency = kind = municipality = None
        warning = MSG_BAD_FILTER
    try:
        page = await reports_api.queue(
            current=current.opened, session=session, status=status, urgency=urgency, kind=kind,
            municipality=municipality, overdue=overdue, cursor=params.get("cursor") or None,
            limit=25,
        )
    except Problem:
        page = await reports_api.queue(current=current.opened, session=session, status=status,
                                       urgency=urgency, kind=kind, municipality=municipality,
                                       overdue=overdue, cursor=None, limit=25)
        warning = MSG_BAD_FILTER
    kept = {key: params[key] for key in QUEUE_FILTERS if params.get(key)}
    return render(request, "queue.html", {
        "current": current, "page": page, "warning": warning, "filters": kept,
        "municipalities": await _area_municipalities(session, current),
        "labels": labels, "first_page": not params.get("cursor"),
    })


# --- One report --------------------------------------------------------------------------


async def _report_page(
    request: Request, session: SessionDep, current: WebSession, report_id: str, *,
    error: str | None = None, status_code: int = 200,
) -> Response:
    try:
        detail = await reports_api.detail(report_id, current.opened, session)
    except Problem as problem:
        return render(request, "error.html", {"current": current, "message": problem.detail},
                      status_code=problem.status_code)
    locale = locale_of(request)
    actors = {e.actor for e in (*detail.notes, *detail.history)} - {"reporter"}
    people = {user.id: user.username for user in (await session.exec(
        select(User).where(col(User.id).in_(sorted(actors))))).all()} if actors else {}
    people[current.opened.user.id] = gettext(locale, MSG_YOU)
    done = DONE.get(request.query_params.get("hecho", "")) if status_code == 200 else None
    return render(request, "report.html", {
        "current": current, "report": detail, "labels": labels, "error": error, "done": done,
        "lines": answer_lines(detail.kind, detail.answers, locale),
        "next_statuses": sorted(TRANSITIONS.get(detail.status, ())),
        "entities": REFERRAL_ENTITIES, "reasons": CLOSING_REASONS,
        "inline_types": INLINE_TYPES, "people": people,
    }, status_code=status_code)


@router.get("/reportes/{report_id}")
async def report_page(request: Request, report_id: str, session: SessionDep,
                      current: Triager) -> Response:
    return await _report_page(request, session, current, report_id)


async def _act(request: Request, session: SessionDep, current: WebSession, report_id: str,
               done: str, action: Any) -> Response:
    """Runs one triage action; success redirects (no resubmission), a refusal re-renders."""
    try:
        await action
    except Problem as problem:
        return await _report_page(request, session, current, report_id,
                                  error=str(problem.detail), status_code=problem.status_code)
    return redirect(f"/reportes/{report_id}?hecho={done}")


def form_text(value: object) -> str:
    """A posted field as text to look up or store: stripped, without U+0000 (no database
    text can hold it; nobody types it)."""
    return str(value).replace("\x00", "").strip() if isinstance(value, str) else ""


async def read_form(request: Request, current: WebSession) -> dict[str, str]:
    """The posted fields as text, after the CSRF check (raises CsrfRefused)."""
    form = await request.form()
    check_csrf(current.csrf, form)
    return {key: form_text(value) for key, value in form.items() if isinstance(value, str)}


@router.post("/reportes/{report_id}/tomar")
async def claim(request: Request, report_id: str, session: SessionDep,
                current: Triager) -> Response:
    await read_form(request, current)
    return await _act(request, session, current, report_id, "tomado",
                      triage_api.claim(report_id, current.opened, session))


@router.post("/reportes/{report_id}/estado")
async def change_status(request: Request, report_id: str, session: SessionDep,
                        current: Triager) -> Response:
    form = await read_form(request, current)
    try:
        change = triage_api.StatusChange(
            status=form.get("status", ""),  # type: ignore[arg-type]
            entity=form.get("entity") or None if form.get("status") == "referred" else None,
            reference=form.get("reference") or None if form.get("status") == "referred" else None,
            reason=form.get("reason") or None if form.get("status") == "closed" else None,
        )
    except ValidationError:
        # Never logged: a reference number is case data.
        return await _report_page(request, session, current, report_id,
                                  error=MSG_BAD_STATUS, status_code=422)
    return await _act(request, session, current, report_id, "estado",
                      triage_api.status(report_id, change, current.opened, session))


@router.post("/reportes/{report_id}/nota")
async def note(request: Request, report_id: str, session: SessionDep,
               current: Triager) -> Response:
    form = await read_form(request, current)
    text = form.get("text", "")
    if not text or len(text) > 4000:
        return await _report_page(request, session, current, report_id, status_code=422,
                                  error="Escriba la nota (hasta 4.000 caracteres).")
    return await _act(request, session, current, report_id, "nota",
                      triage_api.note(report_id, triage_api.TextIn(text=text), current.opened,
                                      session))


@router.post("/reportes/{report_id}/mensaje")
async def message(request: Request, report_id: str, session: SessionDep, store: StoreDep,
                  current: Triager) -> Response:
    form = await read_form(request, current)
    text = form.get("text", "")
    if not text or len(text) > 4000:
        return await _report_page(request, session, current, report_id, status_code=422,
                                  error="Escriba el mensaje (hasta 4.000 caracteres).")
    return await _act(request, session, current, report_id, "mensaje",
                      triage_api.message(report_id, triage_api.TextIn(text=text), current.opened,
                                         session, store))


@router.post("/reportes/{report_id}/compartir")
async def share(request: Request, report_id: str, session: SessionDep, store: StoreDep,
                current: Triager) -> Response:
    form = await read_form(request, current)
    username = form.get("username", "")
    try:
        body = triage_api.ShareIn(username=username)
    except ValidationError:  # text no account can have (U+0000)
        return await _report_page(request, session, current, report_id, status_code=422,
                                  error=f"No existe el usuario {username!r}.")
    return await _act(request, session, current, report_id, "compartido",
                      triage_api.share(report_id, body, current.opened, session, store))


@router.get("/reportes/{report_id}/archivos/{attachment_id}")
async def attachment(request: Request, report_id: str, attachment_id: str, session: SessionDep,
                     current: Triager) -> Response:
    """Evidence for preview (images, voice notes) or download; decrypted per request, audited."""
    try:
        response = await reports_api.attachment(report_id, attachment_id, current.opened,
                                                session)
    except Problem as problem:
        return render(request, "error.html", {"current": current, "message": problem.detail},
                      status_code=problem.status_code)
    mime = response.media_type or ""
    if mime in INLINE_TYPES and request.query_params.get("descargar") != "1":
        response.headers["Content-Disposition"] = "inline"
    # Nothing inside a file may run, even if it claims to be a page.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- The account -------------------------------------------------------------------------


@router.get("/cuenta")
async def account_page(request: Request, current: Anyone) -> Response:
    return render(request, "account.html", {"current": current, "link": None, "error": None})


@router.post("/cuenta/telegram")
async def link_telegram(request: Request, session: SessionDep, current: Triager) -> Response:
    await read_form(request, current)
    link = await me_api.telegram_link(current.opened, session)
    return render(request, "account.html", {"current": current, "link": link, "error": None})


@router.post("/cuenta/contrasena")
async def password(request: Request, session: SessionDep, store: StoreDep,
                   current: Anyone) -> Response:
    form = await read_form(request, current)
    # Counted in this request's transaction: refusals below return a page, so it commits.
    attempts = await count_attempt(session=session, key=f"password:{current.opened.user.id}",
                                   window=LOGIN_WINDOW, now=now_of(request))
    if attempts > LOGIN_ATTEMPTS:
        return render(request, "account.html", {"current": current, "link": None,
                                                "error": MSG_TOO_MANY_PASSWORDS},
                      status_code=429)
    try:
        changed = await change_password(
            session=session, user=current.opened.user,
            current_password=form.get("current_password", ""),
            new_password=form.get("new_password", ""), argon2_params=store.argon2,
        )
    except UserError as error:
        return render(request, "account.html", {"current": current, "link": None,
                                                "error": str(error)}, status_code=422)
    if not changed:
        return render(request, "account.html", {"current": current, "link": None,
                                                "error": MSG_CURRENT_PASSWORD}, status_code=403)
    await append_audit(session=session, actor=current.opened.user.id,
                       action="user.password_changed")
    response = redirect("/entrar?aviso=clave")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def install_page_errors(app: FastAPI) -> None:
    """How the web's own exceptions look: redirects to sign in, or a page that says why."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = "/entrar"
        if exc.next_path not in ("/", ""):
            target += f"?siguiente={quote(exc.next_path)}"
        response = redirect(target)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.exception_handler(EnrollmentRequired)
    async def _enroll(request: Request, exc: EnrollmentRequired) -> Response:
        return redirect("/verificacion")

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, exc: PageForbidden) -> Response:
        current = getattr(request.state, "web", None)
        return render(request, "error.html", {
            "current": current,
            "message": N_("Esta página no es para su rol. Vuelva al inicio."),
        }, status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        """A person's browser gets a page; API clients keep their problem details."""
        wants_page = "text/html" in request.headers.get("accept", "")
        if request.url.path.startswith(API_PREFIXES) or not wants_page:
            return http_problem(exc)
        message = PAGE_ERRORS.get(exc.status_code, MSG_PAGE_FAILED)
        return render(request, "error.html", {"current": getattr(request.state, "web", None),
                                              "message": message}, status_code=exc.status_code)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        current = getattr(request.state, "web", None)
        return render(request, "error.html", {
            "current": current,
            "message": N_("El formulario venció o no vino de esta página. "
                          "Vuelva a cargar la página e intente de nuevo."),
        }, status_code=403)

