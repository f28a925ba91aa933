"""Early warnings (`storage.alerts`): the alerts a person may see, and acknowledging one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.alerts_view import AlertOut
from api.deps import CurrentSession, SessionDep, SettingsDep, StoreDep, TriageSession
from api.params import STORABLE, UUID
from api.problems import Problem, problem_responses
from storage.alerts import MAX_NOTE, AlertError, acknowledge, alerts_for

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
AlertId = Annotated[str, Path(pattern=UUID, description="Identificador de la alerta (UUID).")]


class AcknowledgeIn(BaseModel):
    note: str = Field(default="", max_length=MAX_NOTE, pattern=STORABLE,
                      description="Qué se hizo o se hará. Solo la ve el equipo de la zona.")


@router.get("", responses=problem_responses(401))
async def list_alerts(current: CurrentSession, session: SessionDep, store: StoreDep,
                      settings: SettingsDep) -> list[AlertOut]:
    """The newest early warnings you may see: your areas' (focal points), all (admins),
    or those whose figures pass suppression at k, perturbed (analysts)."""
    views = await alerts_for(session=session, keyring=store.keyring, user=current.user,
                             k=settings.suppression_k)
    return [AlertOut.of(view) for view in views]


@router.post("/{alert_id}/acknowledge", responses=problem_responses(400, 401, 403, 404, 409, 422))
async def acknowledge_alert(alert_id: AlertId, body: AcknowledgeIn, current: TriageSession,
                            session: SessionDep, store: StoreDep,
                            settings: SettingsDep) -> AlertOut:
    """Marks an alert of your area as seen, with a note (kept sealed). Audited. Once."""
    try:
        view = await acknowledge(session=session, keyring=store.keyring, user=current.user,
                                 alert_id=alert_id, note=body.note, now=datetime.now(UTC),
                                 k=settings.suppression_k)
    except AlertError as error:
        if error.code == "acknowledged":
            raise Problem(409, "Esta alerta ya fue atendida.", code="acknowledged") from None
        raise Problem(404, "No existe esa alerta.") from None
    return AlertOut.of(view)
