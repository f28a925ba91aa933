"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import StoreDep
from api.problems import Problem, problem_responses

router = APIRouter(tags=["health"])


class Alive(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]


@router.get("/healthz")
async def healthz() -> Alive:
    """The process is up (it answers nothing else)."""
    return Alive(status="ok")


@router.get("/readyz", responses=problem_responses(503))
async def readyz(store: StoreDep) -> Ready:
    """The database answers; 503 while it does not."""
    try:
        async with store.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        raise Problem(503, "La base de datos no responde.") from error
    return Ready(status="ready")
