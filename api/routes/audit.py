"""The audit log over the API (admins): pages of entries and a check of the hash chain."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.deps import SessionDep, require_roles
from api.problems import problem_responses
from storage.audit import audit_page, verify_audit_chain
from storage.sessions import OpenSession

router = APIRouter(prefix="/api/v1/audit", tags=["admin"])
AdminSession = Annotated[OpenSession, Depends(require_roles("admin"))]


class EntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str = Field(description="Id de la cuenta, o «system» / «reporter».")
    action: str
    report_id: str | None
    detail: dict[str, Any] = Field(description="Códigos e ids, nunca contenido.")


class EntriesOut(BaseModel):
    items: list[EntryOut]
    next_before: int | None = Field(description="Páselo como `before` para la página siguiente.")


class ChainOut(BaseModel):
    ok: bool
    entries: int
    broken_at: int | None = Field(description="La primera entrada que no coincide.")


@router.get("", responses=problem_responses(401, 403, 422))
async def entries(
    current: AdminSession, session: SessionDep,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1,
                                        description="`next_before` de la página anterior.")]
    = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EntriesOut:
    """Newest first."""
    found = await audit_page(session=session, before=before, limit=limit + 1)
    page = found[:limit]
    return EntriesOut(
        items=[EntryOut(seq=e.seq or 0, at=e.at, actor=e.actor, action=e.action,
                        report_id=e.report_id, detail=json.loads(e.detail)) for e in page],
        next_before=page[-1].seq if len(found) > limit else None,
    )


@router.get("/verify", responses=problem_responses(401, 403))
async def verify(current: AdminSession, session: SessionDep) -> ChainOut:
    """Recomputes every hash in order, as `somos audit verify` does."""
    check = await verify_audit_chain(session=session)
    return ChainOut(ok=check.ok, entries=check.entries, broken_at=check.broken_at)
