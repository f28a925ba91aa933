"""The admin page of the audit log (`/admin/auditoria`): newest entries first, by pages,
and the check of the whole hash chain when asked."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlmodel import col, select

from api.deps import SessionDep
from api.web.forms import Admin
from api.web.render import render
from storage.audit import audit_page, verify_audit_chain
from storage.models import User

router = APIRouter(include_in_schema=False)
AUDIT_PAGE_SIZE = 50
MAX_SEQ = 2**31 - 1  # audit_log.seq is a 32-bit integer


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
