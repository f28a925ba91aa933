"""What every page module shares: who may see a page (`PageUser` and its aliases), the
posted form as text after the CSRF check, redirects, the error page, and gettext."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import SessionDep, SettingsDep
from api.web.render import render
from api.web.security import PageForbidden, WebSession, check_csrf, web_session
from bot.i18n import translations


def gettext(locale: str, msgid: str) -> str:
    return translations(locale).gettext(msgid)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(value: object) -> str:
    """Only a path of this site (never //host or a full URL) after signing in."""
    text = value if isinstance(value, str) else ""
    return text if text.startswith("/") and not text.startswith(("//", "/\\")) else "/"


def home_of(role: str) -> str:
    return "/panel" if role == "analyst" else "/bandeja"


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
        if self.roles and current.signed_in.user.role not in self.roles:
            raise PageForbidden()
        return current


Anyone = Annotated[WebSession, Depends(PageUser())]
Triager = Annotated[WebSession, Depends(PageUser("focal_point", "admin"))]
Enrolling = Annotated[WebSession, Depends(PageUser(enrolling=True))]
Admin = Annotated[WebSession, Depends(PageUser("admin"))]


def form_text(value: object) -> str:
    """A posted field as text to look up or store: stripped, without U+0000 (no database
    text can hold it; nobody types it)."""
    return str(value).replace("\x00", "").strip() if isinstance(value, str) else ""


async def read_form(request: Request, current: WebSession) -> dict[str, str]:
    """The posted fields as text, after the CSRF check (raises CsrfRefused)."""
    form = await request.form()
    check_csrf(current.csrf, form)
    return {key: form_text(value) for key, value in form.items() if isinstance(value, str)}


def done_notice(request: Request, messages: Mapping[str, str]) -> str | None:
    """The message of a finished action, named by `?hecho=` after its redirect."""
    return messages.get(request.query_params.get("hecho", ""))


def error_page(request: Request, current: WebSession | None, message: str,
               status_code: int) -> Response:
    """A page that says what went wrong (`message`: a msgid, or text shown as it is)."""
    return render(request, "error.html", {"current": current, "message": message},
                  status_code=status_code)
