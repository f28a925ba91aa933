"""Routing rules (admins): which focal points receive which reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import SessionDep, require_roles
from api.params import DEPARTMENT_CODE, MUNICIPALITY_CODE, STORABLE, RuleId
from api.problems import Problem, problem_responses
from api.routing_input import RuleInput, RuleRefused, submit_rule
from storage.routing import delete_rule, list_rules
from storage.sessions import OpenSession

router = APIRouter(prefix="/api/v1/routing-rules", tags=["admin"])
AdminSession = Annotated[OpenSession, Depends(require_roles("admin"))]


class RuleIn(BaseModel):
    username: str = Field(pattern=STORABLE, description="Punto focal que recibirá los reportes.")
    department: str | None = Field(default=None, pattern=DEPARTMENT_CODE)
    municipality: str | None = Field(default=None, pattern=MUNICIPALITY_CODE)
    kind: str | None = None
    category: str | None = None
    urgency: str | None = None


class RuleOut(BaseModel):
    id: str
    user_id: str
    department: str | None
    municipality: str | None
    kind: str | None
    category: str | None
    urgency: str | None


@router.get("", responses=problem_responses(401, 403))
async def rules(current: AdminSession, session: SessionDep) -> list[RuleOut]:
    """All rules, most specific first."""
    return [
        RuleOut(id=r.id, user_id=r.user_id, department=r.department_code,
                municipality=r.municipality_code, kind=r.kind, category=r.category,
                urgency=r.urgency)
        for r in await list_rules(session=session)
    ]


@router.post("", status_code=201, responses=problem_responses(400, 401, 403, 422))
async def create(body: RuleIn, current: AdminSession, session: SessionDep) -> RuleOut:
    """Adds a rule; more specific rules win over a focal point's own area."""
    try:
        rule = await submit_rule(
            session=session, actor=current.user.id, username=body.username,
            rule=RuleInput(body.department, body.municipality, body.kind, body.category,
                           body.urgency),
        )
    except RuleRefused as refused:
        raise Problem(422, str(refused), code="invalid-rule") from None
    return RuleOut(id=rule.id, user_id=rule.user_id, department=rule.department_code,
                   municipality=rule.municipality_code, kind=rule.kind, category=rule.category,
                   urgency=rule.urgency)


@router.delete("/{rule_id}", status_code=204,
               responses=problem_responses(401, 403, 404, 422))
async def delete(rule_id: RuleId, current: AdminSession, session: SessionDep) -> None:
    """Removes a rule."""
    if not await delete_rule(session=session, actor=current.user.id, rule_id=rule_id):
        raise Problem(404, "No existe esa regla.")
