"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import StoreDep
from api.problems import Problem

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(store: StoreDep) -> dict[str, str]:
    """The database answers."""
    try:
        async with store.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        raise Problem(503, "La base de datos no responde.") from error
    return {"status": "ready"}
