"""Admin pages for routing rules (`/admin/rutas`): the list, a new rule and removing one.

A rule is checked and added by `api.routing_input.submit_rule`, as `POST
/api/v1/routing-rules` does, and removed by `storage.routing.delete_rule`; both audited.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request, Response
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import SessionDep
from api.routing_input import RuleInput, RuleRefused, submit_rule, validate_rule
from api.web import labels
from api.web.admin import Notice, codes
from api.web.forms import Admin, done_notice, read_form, redirect
from api.web.render import render
from api.web.security import WebSession
from flows import taxonomy
from flows.messages import N_
from storage.models import User
from storage.routing import delete_rule, list_rules

router = APIRouter(include_in_schema=False)
RECIPIENT_ROLES = ("focal_point", "admin")
CATEGORIES_BY_KIND = {"threat": taxonomy.THREAT_CATEGORIES, "stigma": taxonomy.STIGMA,
                      "priority": taxonomy.PRIORITIES}
MSG_BAD_PLACE = N_("Escriba un código de departamento (2 dígitos) o de municipio (5 dígitos), "
                   "o deje el lugar vacío para todo el país. Revise:")
MSG_NO_RECIPIENT = N_("Elija quién recibirá los reportes.")
MSG_CATEGORY_NOT_OF_KIND = N_("Esa categoría es de otro tipo de reporte. Elija una del mismo "
                              "tipo, o deje el tipo en «Cualquiera».")
MSG_NO_RULE = N_("Esa regla ya no existe.")
DONE = {
    "regla": N_("La regla quedó guardada."),
    "regla-borrada": N_("La regla quedó borrada."),
}


async def _rules_page(request: Request, session: AsyncSession, current: WebSession, *,
                      errors: Sequence[Notice] = (), entered: dict[str, str] | None = None,
                      status_code: int = 200) -> Response:
    users = (await session.exec(select(User).order_by(col(User.username)))).all()
    return render(request, "admin_rules.html", {
        "current": current, "rules": await list_rules(session=session),
        "people": {user.id: user.username for user in users},
        "recipients": [u for u in users if u.role in RECIPIENT_ROLES and not u.disabled],
        "kinds": taxonomy.KINDS, "categories": CATEGORIES_BY_KIND, "labels": labels,
        "errors": errors, "entered": entered or {}, "done": done_notice(request, DONE),
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
        problems += codes(request, department, 2)[1]
    kind = form.get("kind") or None
    category = form.get("category") or None
    urgency = form.get("urgency") or None
    rule = RuleInput(department, municipality, kind, category, urgency)
    # Listed with the page's own problems; `submit_rule` checks the rule again, and the
    # recipient, before adding it.
    problems += [Notice(detail=text) for text in validate_rule(rule)]
    if kind in CATEGORIES_BY_KIND and category and category not in CATEGORIES_BY_KIND[kind]:
        problems.append(Notice(MSG_CATEGORY_NOT_OF_KIND))
    if not problems:
        try:
            await submit_rule(session=session, actor=current.signed_in.user.id,
                              username=form.get("username", ""), rule=rule)
        except RuleRefused as refusal:
            problems.append(Notice(detail=str(refusal)))
    if problems:
        return await _rules_page(request, session, current, errors=problems, entered=form,
                                 status_code=422)
    return redirect("/admin/rutas?hecho=regla")


@router.post("/admin/rutas/{rule_id}/borrar")
async def remove_rule_page(request: Request, rule_id: str, session: SessionDep,
                           current: Admin) -> Response:
    await read_form(request, current)
    if not await delete_rule(session=session, actor=current.signed_in.user.id, rule_id=rule_id):
        return await _rules_page(request, session, current, errors=[Notice(MSG_NO_RULE)],
                                 status_code=404)
    return redirect("/admin/rutas?hecho=regla-borrada")
