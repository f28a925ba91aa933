"""The signed-in staff member's own settings: linking their Telegram chat for pings."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import SessionDep, TriageSession
from storage.audit import append_audit
from storage.users import LINK_LIFETIME, issue_link_code

router = APIRouter(prefix="/api/v1/me", tags=["me"])


class LinkCode(BaseModel):
    code: str
    expires_in: int
    instructions: str


@router.post("/telegram-link", status_code=201)
async def telegram_link(current: TriageSession, session: SessionDep) -> LinkCode:
    """A one-time code to send as `/vincular CODE` to the bot from your own Telegram."""
    code = await issue_link_code(session=session, user=current.user, now=datetime.now(UTC))
    await append_audit(session=session, actor=current.user.id, action="user.link_code_issued")
    return LinkCode(
        code=code, expires_in=int(LINK_LIFETIME.total_seconds()),
        instructions=f"Desde su propio Telegram, escriba al bot: /vincular {code}",
    )
