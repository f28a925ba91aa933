"""Web sessions in a cookie, CSRF tokens, and the security headers of every page.

The cookie holds the same kind of opaque token as the API's bearer token (the
private key is sealed under it). Pages slide an idle timeout on each use, never
past the absolute lifetime. Forms carry a CSRF token derived from the session
token; the login form, before any session exists, uses a double-submit cookie.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import Request, Response
from fastapi.responses import PlainTextResponse
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData

from api.auth import needs_totp_enrollment
from api.clock import now_of
from api.settings import Settings
from storage.sessions import OpenSession, csrf_token, extend_session, resolve_session

SESSION_COOKIE = "somos_sesion"
LOGIN_CSRF_COOKIE = "somos_csrf"
CSRF_FIELD = "csrf"
API_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json", "/telegram/", "/healthz",
                "/readyz", "/metrics")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    # Pages carry report content or staff data: never kept by the browser or a proxy.
    "Cache-Control": "no-store",
}


class LoginRequired(Exception):
    """No live web session: the handler answers with a redirect to the login page."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__(next_path)
        self.next_path = next_path


class EnrollmentRequired(Exception):
    """Signed in with the password only: the second factor comes first."""


class PageForbidden(Exception):
    """Signed in, but this page is not for this role."""


class CsrfRefused(Exception):
    """A form without the token of this session (or of this login page)."""


@dataclass(frozen=True)
class WebSession:
    signed_in: OpenSession
    token: str = field(repr=False)
    expires_at: datetime
    # Plain copies for the page frame: error pages render after the transaction has ended.
    username: str = ""
    role: str = ""

    @property
    def csrf(self) -> str:
        """Derived from the session token, which only this browser holds."""
        return csrf_token(self.token)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def check_csrf(expected: str | None, form: FormData) -> None:
    given = form.get(CSRF_FIELD)
    if not expected or not isinstance(given, str) or not hmac.compare_digest(expected, given):
        raise CsrfRefused()


LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]")


def secure_cookies(request: Request) -> bool:
    """Cookies are `Secure` everywhere but plain HTTP on this machine (`make run`), so a TLS
    proxy that does not forward the scheme still gets them right."""
    return request.url.scheme == "https" or request.url.hostname not in LOOPBACK


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=secure_cookies(request))


async def web_session(
    request: Request, session: AsyncSession, settings: Settings, *, enrolling: bool = False
) -> WebSession:
    """The live session of this browser, slid forward by this use; raises LoginRequired."""
    token = request.cookies.get(SESSION_COOKIE)
    next_path = request.url.path if request.method == "GET" else "/"
    if not token:
        raise LoginRequired(next_path)
    now = now_of(request)
    opened = await resolve_session(session=session, token=token, now=now)
    if opened is None:
        raise LoginRequired(next_path)
    if not enrolling and needs_totp_enrollment(settings, opened.user):
        raise EnrollmentRequired()
    expires_at = await extend_session(
        session=session, opened=opened, now=now,
        idle=timedelta(minutes=settings.web_idle_minutes),
        lifetime=timedelta(hours=settings.session_hours),
    )
    return WebSession(signed_in=opened, token=token, expires_at=expires_at,
                      username=opened.user.username, role=opened.user.role)


def _unstorable(request: Request) -> bool:
    return "\x00" in request.url.path or any(
        "\x00" in key or "\x00" in value for key, value in request.query_params.multi_items())


async def with_page_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Strict headers on every page (the JSON API and its docs keep their own)."""
    if not request.url.path.startswith(API_PREFIXES) and _unstorable(request):
        # No database text holds U+0000 (PostgreSQL refuses it mid-query): a page request
        # carrying one in its path or query is refused before any route looks it up.
        response: Response = PlainTextResponse("Solicitud no válida.", status_code=400)
    else:
        response = await call_next(request)
    if not request.url.path.startswith(API_PREFIXES):
        for name, value in PAGE_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.scheme == "https":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    elif request.url.path.startswith("/api/"):
        # JSON can carry decrypted reports and tokens: never cached, never sniffed.
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
