"""Admin pages: users, routing rules, emergency lines, the audit log.

Admins only. Every change is audited with the action names of the CLI and the API;
routing rules go through the API's own functions, so their rules and messages are
the same on both. A one-time password is shown once, on the page that made it.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from markupsafe import Markup, escape
from pydantic import ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import SessionDep, StoreDep
from api.problems import Problem
from api.routes import routing_rules as routing_api
from api.routing_input import RuleInput, validate_rule
from api.web import labels
from api.web.pages import PageUser, read_form, redirect
from api.web.render import locale_of, render
from api.web.security import WebSession
from bot.i18n import translations
from flows import taxonomy
from flows.messages import N_
from flows.municipalities import parse_codes
from storage.audit import append_audit, audit_page, verify_audit_chain
from storage.lines import add_line, lines_for, municipalities_with_lines, remove_line
from storage.models import User
from storage.recovery import decode_recovery_key
from storage.routing import list_rules
from storage.staff import create_staff, staff_refusals
from storage.users import (
    ROLES,
    UserError,
    disable_user,
    generate_password,
    list_staff,
    restore_with_recovery,
)

router = APIRouter(include_in_schema=False)
Admin = Annotated[WebSession, Depends(PageUser("admin"))]

AUDIT_PAGE_SIZE = 50
MAX_SEQ = 2**31 - 1  # audit_log.seq is a 32-bit integer
RECIPIENT_ROLES = ("focal_point", "admin")
CATEGORIES_BY_KIND = {"threat": taxonomy.THREATS, "stigma": taxonomy.STIGMA,
                      "priority": taxonomy.PRIORITIES}

MSG_NO_USER = N_("Esa cuenta no existe. Vuelva a la lista de usuarios.")
MSG_NOT_YOURSELF = N_("No puede desactivar su propia cuenta. Pida a otra persona "
                      "administradora que lo haga.")
MSG_RESTORE_YOURSELF = N_("Para su propia cuenta, cambie la contraseña en «Mi cuenta».")
MSG_DISABLED = N_("Esta cuenta está desactivada.")
MSG_BAD_RECOVERY_KEY = N_("La llave de recuperación no se pudo leer. Péguela completa, tal "
                          "como la mostró `somos init`.")
MSG_BAD_PLACE = N_("Escriba un código de departamento (2 dígitos) o de municipio (5 dígitos), "
                   "o deje el lugar vacío para todo el país. Revise:")
MSG_NO_RECIPIENT = N_("Elija quién recibirá los reportes.")
MSG_CATEGORY_NOT_OF_KIND = N_("Esa categoría es de otro tipo de reporte. Elija una del mismo "
                              "tipo, o deje el tipo en «Cualquiera».")
MSG_NO_RULE = N_("Esa regla ya no existe.")
MSG_LINE_FIELDS = N_("Escriba el nombre (hasta 120 caracteres) y el número (hasta 40) de la "
                     "línea.")
MSG_CHOOSE_MUNICIPALITY = N_("Elija primero el municipio.")
MSG_NO_LINE = N_("Esa línea ya no existe.")
DONE = {
    "desactivada": N_("La cuenta quedó desactivada. Sus sesiones abiertas se cerraron."),
    "regla": N_("La regla quedó guardada."),
    "regla-borrada": N_("La regla quedó borrada."),
    "linea": N_("La línea quedó guardada. El bot ya la muestra."),
    "linea-borrada": N_("La línea quedó borrada."),
}


@dataclass(frozen=True)
class Notice:
    """A message for the page: a msgid translated there, then a fixed detail (a code, a
    name, or a Spanish message shared with the CLI and the API, not in the catalogs)."""

    msgid: str = ""
    detail: str = ""


def _done(request: Request) -> str | None:
    return DONE.get(request.query_params.get("hecho", ""))


def _refused(request: Request, refusals: Sequence[tuple[str, str]]) -> list[Notice]:
    """Refusals of `parse_codes` and `storage.staff`, what was typed in bold."""
    gettext = translations(locale_of(request)).gettext
    return [Notice(detail=escape(gettext(msgid)).replace(
        "{value}", Markup("<strong>%s</strong>") % value)) for msgid, value in refusals]


def _codes(request: Request, text: str, digits: int) -> tuple[list[str], list[Notice]]:
    """DIVIPOLA codes separated by commas or spaces; a dropped leading zero is put back."""
    codes, refusals = parse_codes(re.split(r"[\s,;]+", text), digits)
    return codes, _refused(request, refusals)


def _valid_municipality(request: Request, text: str) -> Notice | None:
    _codes_found, refusals = _codes(request, text, 5)
    return refusals[0] if refusals else None


def _error_page(request: Request, current: WebSession, message: str,
                status_code: int) -> Response:
    return render(request, "error.html", {"current": current, "message": message},
                  status_code=status_code)


# --- Users -------------------------------------------------------------------------------


async def _users_page(request: Request, session: AsyncSession, current: WebSession, *,
                      errors: Sequence[Notice] = (), entered: dict[str, str] | None = None,
                      status_code: int = 200) -> Response:
    return render(request, "admin_users.html", {
        "current": current, "staff": await list_staff(session=session), "labels": labels,
        "roles": ROLES,
        "errors": errors, "entered": entered or {}, "done": _done(request),
    }, status_code=status_code)


@router.get("/admin/usuarios")
async def users_page(request: Request, session: SessionDep, current: Admin) -> Response:
    return await _users_page(request, session, current)


@router.post("/admin/usuarios")
async def create_user_page(request: Request, session: SessionDep, store: StoreDep,
                           current: Admin) -> Response:
    form = await read_form(request, current)
    username = form.get("username", "")
    role = form.get("role", "")
    problems = _refused(request, await staff_refusals(session=session, username=username,
                                                      role=role))
    municipalities, wrong = _codes(request, form.get("municipalities", ""), 5)
    problems += wrong
    departments, wrong = _codes(request, form.get("departments", ""), 2)
    problems += wrong
    if problems:
        return await _users_page(request, session, current, errors=problems, entered=form,
                                 status_code=422)
    password = generate_password()
    await create_staff(
        session=session, keyring=store.keyring, actor=current.opened.user.id, via="web",
        username=username, role=role, password=password, municipalities=municipalities,
        departments=departments, argon2_params=store.argon2,
    )
    return render(request, "admin_password.html", {
        "current": current, "username": username, "password": password, "created": True,
        "enrolled": False,
    })


async def _user_page(request: Request, session: AsyncSession, current: WebSession,
                     user_id: str, *, errors: Sequence[Notice] = (),
                     status_code: int = 200) -> Response:
    row = next((r for r in await list_staff(session=session) if r.user.id == user_id), None)
    if row is None:
        return _error_page(request, current, MSG_NO_USER, 404)
    return render(request, "admin_user.html", {
        "current": current, "row": row, "labels": labels, "errors": errors, "done": None,
        "yourself": user_id == current.opened.user.id,
    }, status_code=status_code)


@router.get("/admin/usuarios/{user_id}")
async def user_page(request: Request, user_id: str, session: SessionDep,
                    current: Admin) -> Response:
    return await _user_page(request, session, current, user_id)


@router.post("/admin/usuarios/{user_id}/desactivar")
async def disable(request: Request, user_id: str, session: SessionDep,
                  current: Admin) -> Response:
    await read_form(request, current)
    user = await session.get(User, user_id)
    if user is None:
        return _error_page(request, current, MSG_NO_USER, 404)
    if user.id == current.opened.user.id:
        return await _user_page(request, session, current, user_id,
                                errors=[Notice(MSG_NOT_YOURSELF)], status_code=422)
    if not user.disabled:
        await disable_user(session=session, user=user)
        await append_audit(session=session, actor=current.opened.user.id,
                           action="user.disabled", detail={"user": user.id})
    return redirect("/admin/usuarios?hecho=desactivada")


@router.post("/admin/usuarios/{user_id}/restablecer")
async def restore(request: Request, user_id: str, session: SessionDep, store: StoreDep,
                  current: Admin) -> Response:
    form = await read_form(request, current)
    user = await session.get(User, user_id)
    if user is None:
        return _error_page(request, current, MSG_NO_USER, 404)
    problem: Notice | None = None
    recovery = b""
    if user.id == current.opened.user.id:
        problem = Notice(MSG_RESTORE_YOURSELF)
    elif user.disabled:
        problem = Notice(MSG_DISABLED)
    else:
        try:
            recovery = decode_recovery_key(form.get("recovery_key", ""))
        except (binascii.Error, ValueError):
            problem = Notice(MSG_BAD_RECOVERY_KEY)
    password = generate_password()
    if problem is None:
        try:
            await restore_with_recovery(session=session, user=user, recovery_private_key=recovery,
                                        new_password=password, argon2_params=store.argon2)
        except UserError as error:
            problem = Notice(detail=str(error))
    if problem is not None:
        return await _user_page(request, session, current, user_id, errors=[problem],
                                status_code=422)
    await append_audit(session=session, actor=current.opened.user.id, action="user.restored",
                       detail={"user": user.id})
    return render(request, "admin_password.html", {
        "current": current, "username": user.username, "password": password, "created": False,
        "enrolled": user.crypto_totp_secret is not None,
    })


# --- Routing rules -----------------------------------------------------------------------


async def _rules_page(request: Request, session: AsyncSession, current: WebSession, *,
                      errors: Sequence[Notice] = (), entered: dict[str, str] | None = None,
                      status_code: int = 200) -> Response:
    users = (await session.exec(select(User).order_by(col(User.username)))).all()
    return render(request, "admin_rules.html", {
        "current": current, "rules": await list_rules(session=session),
        "people": {user.id: user.username for user in users},
        "recipients": [u for u in users if u.role in RECIPIENT_ROLES and not u.disabled],
        "kinds": taxonomy.KINDS, "categories": CATEGORIES_BY_KIND, "labels": labels,
        "errors": errors, "entered": entered or {}, "done": _done(request),
    }, status_code=status_code)


@router.get("/admin/rutas")
async def rules_page(request: Request, session: SessionDep, current: Admin) -> Response:
    return await _rules_page(request, session, current)


@router.post("/admin/rutas")
async def add_rule_page(request: Request, session: SessionDep, current: Admin) -> Response:
    form = await read_form(request, current)
    place = form.get("place", "")
    department = municipality = None
    problems: list[Notice] = []
    if not form.get("username"):
        problems.append(Notice(MSG_NO_RECIPIENT))
    if place.isascii() and place.isdigit() and len(place) in (2, 5):
        department, municipality = (place, None) if len(place) == 2 else (None, place)
    elif place:
        problems.append(Notice(MSG_BAD_PLACE, place))
    if department:
        problems += _codes(request, department, 2)[1]
    kind = form.get("kind") or None
    category = form.get("category") or None
    urgency = form.get("urgency") or None
    problems += [Notice(detail=text) for text in
                 validate_rule(RuleInput(department, municipality, kind, category, urgency))]
    if kind in CATEGORIES_BY_KIND and category and category not in CATEGORIES_BY_KIND[kind]:
        problems.append(Notice(MSG_CATEGORY_NOT_OF_KIND))
    if not problems:
        try:
            body = routing_api.RuleIn(username=form.get("username", ""), department=department,
                                      municipality=municipality, kind=kind, category=category,
                                      urgency=urgency)
            await routing_api.create(body, current.opened, session)
        except ValidationError:  # a username no account can have (U+0000)
            problems.append(Notice(MSG_NO_RECIPIENT))
        except Problem as problem:
            problems.append(Notice(detail=str(problem.detail)))
    if problems:
        return await _rules_page(request, session, current, errors=problems, entered=form,
                                 status_code=422)
    return redirect("/admin/rutas?hecho=regla")


@router.post("/admin/rutas/{rule_id}/borrar")
async def remove_rule_page(request: Request, rule_id: str, session: SessionDep,
                           current: Admin) -> Response:
    await read_form(request, current)
    try:
        await routing_api.delete(rule_id, current.opened, session)
    except Problem as problem:
        return await _rules_page(request, session, current, errors=[Notice(MSG_NO_RULE)],
                                 status_code=problem.status_code)
    return redirect("/admin/rutas?hecho=regla-borrada")


# --- Emergency lines ---------------------------------------------------------------------


async def _lines_page(request: Request, session: AsyncSession, current: WebSession,
                      code: str, *, errors: Sequence[Notice] = (),
                      entered: dict[str, str] | None = None, status_code: int = 200) -> Response:
    problem = _valid_municipality(request, code) if code else None
    chosen = code if code and problem is None else None
    return render(request, "admin_lines.html", {
        "current": current, "code": code, "chosen": chosen,
        "lines": await lines_for(session=session, municipality_code=chosen) if chosen else [],
        "with_lines": await municipalities_with_lines(session=session),
        "errors": [*errors, *([problem] if problem else [])], "entered": entered or {},
        "done": _done(request),
    }, status_code=422 if problem else status_code)


@router.get("/admin/lineas")
async def lines_page(request: Request, session: SessionDep, current: Admin) -> Response:
    return await _lines_page(request, session, current,
                             request.query_params.get("municipio", "").strip())


@router.post("/admin/lineas")
async def add_line_page(request: Request, session: SessionDep, current: Admin) -> Response:
    form = await read_form(request, current)
    code = form.get("municipio", "")
    name, number = form.get("name", ""), form.get("number", "")
    if not code:
        return await _lines_page(request, session, current, code,
                                 errors=[Notice(MSG_CHOOSE_MUNICIPALITY)], status_code=422)
    if _valid_municipality(request, code) is not None:
        return await _lines_page(request, session, current, code, status_code=422)
    if not name or not number or len(name) > 120 or len(number) > 40:
        return await _lines_page(request, session, current, code, entered=form,
                                 errors=[Notice(MSG_LINE_FIELDS)], status_code=422)
    line = await add_line(session=session, municipality_code=code, name=name, number=number)
    await append_audit(session=session, actor=current.opened.user.id, action="lines.line_added",
                       detail={"line": line.id, "municipality": code})
    return redirect(f"/admin/lineas?municipio={code}&hecho=linea")


@router.post("/admin/lineas/{line_id}/borrar")
async def remove_line_page(request: Request, line_id: str, session: SessionDep,
                           current: Admin) -> Response:
    form = await read_form(request, current)
    line = await remove_line(session=session, line_id=line_id)
    if line is None:
        return await _lines_page(request, session, current, form.get("municipio", ""),
                                 errors=[Notice(MSG_NO_LINE)], status_code=404)
    await append_audit(session=session, actor=current.opened.user.id,
                       action="lines.line_removed",
                       detail={"line": line_id, "municipality": line.municipality_code})
    return redirect(f"/admin/lineas?municipio={line.municipality_code}&hecho=linea-borrada")


# --- The audit log -----------------------------------------------------------------------


@router.get("/admin/auditoria")
async def audit_page_view(request: Request, session: SessionDep, current: Admin) -> Response:
    before_text = request.query_params.get("antes", "")
    before = int(before_text) if before_text.isascii() and before_text.isdigit() else None
    if before is not None and before > MAX_SEQ:  # past the last possible entry: page one
        before = None
    # Reading the whole chain costs more as the log grows: it runs when asked.
    check = (await verify_audit_chain(session=session)
             if request.query_params.get("verificar") == "1" else None)
    found = await audit_page(session=session, before=before, limit=AUDIT_PAGE_SIZE + 1)
    entries = found[:AUDIT_PAGE_SIZE]
    actors = {entry.actor for entry in entries}
    people: dict[str, str] = {user.id: user.username for user in (await session.exec(
        select(User).where(col(User.id).in_(sorted(actors))))).all()} if actors else {}
    return render(request, "admin_audit.html", {
        "current": current, "check": check, "entries": entries, "people": people,
        "next_before": entries[-1].seq if len(found) > AUDIT_PAGE_SIZE else None,
        "first_page": before is None,
    })
