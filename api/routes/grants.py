"""Open cases for a colleague who joined their area later (`storage.grants`): who is
waiting for cases this session can open, and the grant itself."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import SessionDep, TriageSession
from api.params import STORABLE
from api.problems import Problem, problem_responses
from storage.grants import GrantError, grant_open_cases, grantable_by, staff_opener
from storage.triage import MSG_NO_SUCH_USER
from storage.users import get_user_by_username

router = APIRouter(prefix="/api/v1/grants", tags=["triage"])


class ColleagueOut(BaseModel):
    username: str
    cases: int = Field(description="Casos abiertos de su zona que usted puede abrir y esa "
                                   "persona todavía no puede leer.")


class GrantIn(BaseModel):
    username: str = Field(pattern=STORABLE, max_length=64,
                          description="Punto focal o administrador que recibirá los casos "
                                      "abiertos de su zona.")


class GrantOut(BaseModel):
    username: str
    granted: int = Field(description="Casos que ahora puede leer.")
    not_opened: int = Field(description="Casos de su zona que esta sesión no puede abrir.")
    holders: list[str] = Field(
        description="Personas activas que sí pueden abrir esos casos. Si no hay ninguna, "
                    "`somos reports grant` con la llave de recuperación los abre todos.")


@router.get("", responses=problem_responses(401, 403))
async def colleagues(current: TriageSession, session: SessionDep) -> list[ColleagueOut]:
    """Colleagues to whom routing sends open cases that you can open and they cannot read
    yet (someone given an area after the cases arrived)."""
    return [ColleagueOut(username=colleague.user.username, cases=colleague.cases)
            for colleague in await grantable_by(session=session, user=current.user)]


@router.post("", responses=problem_responses(400, 401, 403, 422))
async def grant(body: GrantIn, current: TriageSession, session: SessionDep) -> GrantOut:
    """Wraps for the person the key of every open case of their area that you can open.
    Only cases routing sends them, never others; nobody grants to themselves. Audited."""
    target = await get_user_by_username(session=session, username=body.username)
    if target is None:
        raise Problem(422, MSG_NO_SUCH_USER.format(value=body.username), code="bad-recipient")
    try:
        done = await grant_open_cases(
            session=session, user=target, via="api", now=datetime.now(UTC),
            opener=staff_opener(user=current.user, private_key=current.private_key))
    except GrantError as error:
        raise Problem(422, str(error), code=error.code) from None
    return GrantOut(username=target.username, granted=done.granted,
                    not_opened=done.not_opened, holders=list(done.holders))
