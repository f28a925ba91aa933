"""One report for a focal point (`/reportes/{id}`): its page, the triage actions on it
(take, pass to a colleague, status, the filing number of a referral, note, message to the
reporter, share)
and its evidence files.

Pages and the JSON API call the same storage functions (`storage.triage`,
`storage.reports`), so rules and refusals are the same; a refusal is storage's own
message (a msgid, so it reads in English on an English page) with the API's status,
shown in the form that was sent, with what was chosen or typed still there.

Each status the case may move to has a small form of its own (no JavaScript): only the
fields that move needs, nothing chosen in advance.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import SessionDep, StoreDep
from api.problems import triage_status
from api.reports_view import MSG_NO_FILE, evidence_response, report_detail
from api.web import labels
from api.web.forms import Triager, done_notice, error_page, gettext, read_form, redirect
from api.web.render import locale_of, render
from api.web.security import WebSession
from api.web.summary import answer_lines
from flows.messages import N_
from storage.models import Report, User
from storage.reports import Opened, read_report_attachment
from storage.triage import (
    CLOSING_REASONS,
    MSG_NOT_IN_QUEUE,
    REFERRAL_ENTITIES,
    TRANSITIONS,
    TriageError,
    add_note,
    add_reference,
    change_status,
    claim_report,
    may_reassign,
    message_reporter,
    next_statuses,
    open_case,
    reassign_candidates,
    reassign_report,
    require_assignee,
    share_report,
)

router = APIRouter(include_in_schema=False)
INLINE_TYPES = ("image/jpeg", "image/png", "image/webp", "audio/ogg", "audio/mpeg", "audio/mp4")
# Every status a report can be moved to (never back to "new").
MOVES = frozenset(target for targets in TRANSITIONS.values() for target in targets)
DONE = {
    "tomado": N_("Usted tomó este reporte."),
    "estado": N_("El estado quedó guardado."),
    "nota": N_("La nota quedó guardada."),
    "mensaje": N_("El mensaje quedó listo. La persona lo leerá con su código."),
    "compartido": N_("El reporte quedó compartido."),
    "radicado": N_("El radicado quedó guardado."),
    "reasignado": N_("El caso pasó a otra persona del equipo."),
}
MSG_YOU = N_("Usted")
MSG_BAD_STATUS = N_("Revise el estado: elija uno de la lista.")


async def _report_page(
    request: Request, session: AsyncSession, current: WebSession, report_id: str, *,
    error: str | None = None, status_code: int = 200, sent: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    """The case page; after a refusal, `sent` names the form that was posted (its id in
    the page) and `form` holds what it carried, shown again beside storage's message."""
    detail = await report_detail(session=session, user_id=current.signed_in.user.id,
                                 private_key=current.signed_in.private_key, report_id=report_id,
                                 now=datetime.now(UTC))
    if detail is None:
        return error_page(request, current, MSG_NOT_IN_QUEUE, 404)
    locale = locale_of(request)
    user = current.signed_in.user
    actors = {e.actor for e in (*detail.notes, *detail.history)}
    actors |= {str(e.details[key]) for e in detail.history for key in ("assignee", "previous")
               if e.details.get(key)}
    if detail.assigned_to:
        actors.add(detail.assigned_to)
    actors -= {"reporter"}
    people = {user.id: user.username for user in (await session.exec(
        select(User).where(col(User.id).in_(sorted(actors))))).all()} if actors else {}
    people[user.id] = gettext(locale, MSG_YOU)
    worked = detail.kind != "priority"
    claimable = worked and detail.assigned_to is None
    can_move = worked and (detail.assigned_to in (None, user.id) or user.role == "admin")
    moves = [code for code in next_statuses(detail.status)
             # Taking a new case moves it to review: the one button does both.
             if not (claimable and code == "in_review")] if can_move else []
    # A taken case passes to a colleague from whoever attends it, an admin, or anyone who
    # reads it once the holder's account is disabled.
    holder = await session.get(User, detail.assigned_to) if detail.assigned_to else None
    can_reassign = worked and holder is not None and may_reassign(user=user, holder=holder)
    report = await session.get(Report, report_id) if can_reassign else None
    candidates = (await reassign_candidates(session=session, report=report)
                  if report is not None else [])
    # The forms on the page; a refusal of one that is gone (the case moved meanwhile) is
    # shown at the top instead.
    forms = {"nota", *(f"estado-{code}" for code in moves)}
    if can_move:
        forms |= {"mensaje", *(["radicado"] if detail.reference_pending else [])}
    if can_reassign:
        forms.add("reasignar")
    error_form = sent if error and sent in forms else None
    posted = form or {}
    return render(request, "report.html", {
        "current": current, "report": detail, "labels": labels, "error": error,
        "error_form": error_form,
        "chosen": posted if error_form and (error_form.startswith("estado-")
                                            or error_form == "reasignar") else {},
        "typed": {error_form: posted.get("text") or posted.get("reference", "")}
        if error_form else {},
        "done": done_notice(request, DONE) if status_code == 200 else None,
        "lines": answer_lines(detail.kind, detail.answers, locale),
        "next_statuses": moves, "claimable": claimable, "can_move": can_move,
        "can_reassign": can_reassign, "candidates": candidates,
        "entities": REFERRAL_ENTITIES, "reasons": CLOSING_REASONS,
        "inline_types": INLINE_TYPES, "people": people,
    }, status_code=status_code)


@router.get("/reportes/{report_id}")
async def report_page(request: Request, report_id: str, session: SessionDep,
                      current: Triager) -> Response:
    return await _report_page(request, session, current, report_id)


async def _act(request: Request, session: AsyncSession, current: WebSession, report_id: str,
               done: str, action: Callable[[Opened], Awaitable[object]], *,
               sent: str | None = None, form: dict[str, str] | None = None) -> Response:
    """Opens the report from the caller's queue and runs one triage action on it. Success
    redirects (no resubmission); a refusal re-renders the report with storage's message in
    the form `sent`, keeping what it carried."""
    try:
        opened = await open_case(session=session, user=current.signed_in.user,
                                 private_key=current.signed_in.private_key, report_id=report_id)
        await action(opened)
    except TriageError as error:
        return await _report_page(request, session, current, report_id, error=str(error),
                                  status_code=triage_status(error.code), sent=sent, form=form)
    return redirect(f"/reportes/{report_id}?hecho={done}")


@router.post("/reportes/{report_id}/tomar")
async def claim(request: Request, report_id: str, session: SessionDep,
                current: Triager) -> Response:
    await read_form(request, current)
    user_id = current.signed_in.user.id
    return await _act(request, session, current, report_id, "tomado", lambda opened: (
        claim_report(session=session, opened=opened, user_id=user_id, now=datetime.now(UTC))))


@router.post("/reportes/{report_id}/reasignar")
async def reassign(request: Request, report_id: str, session: SessionDep, store: StoreDep,
                   current: Triager) -> Response:
    form = await read_form(request, current)
    user = current.signed_in.user
    return await _act(request, session, current, report_id, "reasignado", lambda opened: (
        reassign_report(session=session, keyring=store.keyring, opened=opened, user=user,
                        username=form.get("username", ""), now=datetime.now(UTC))),
        sent="reasignar", form=form)


@router.post("/reportes/{report_id}/estado")
async def status(request: Request, report_id: str, session: SessionDep,
                 current: Triager) -> Response:
    form = await read_form(request, current)
    chosen = form.get("status", "")
    referred, closed = chosen == "referred", chosen == "closed"
    if chosen not in MOVES:
        # A status no form offers: said once, at the top (a forged or stale form).
        return await _report_page(request, session, current, report_id,
                                  error=MSG_BAD_STATUS, status_code=422)
    user = current.signed_in.user

    async def move(opened: Opened) -> object:
        require_assignee(user=user, opened=opened)
        return await change_status(
            session=session, opened=opened, user_id=user.id, status=chosen,
            entity=(form.get("entity") or None) if referred else None,
            reference=form.get("reference") if referred else None,
            reason=(form.get("reason") or None) if closed else None,
            now=datetime.now(UTC),
        )

    return await _act(request, session, current, report_id, "estado", move,
                      sent=f"estado-{chosen}", form=form)


@router.post("/reportes/{report_id}/radicado")
async def reference(request: Request, report_id: str, session: SessionDep,
                    current: Triager) -> Response:
    form = await read_form(request, current)
    user = current.signed_in.user

    async def fill(opened: Opened) -> object:
        require_assignee(user=user, opened=opened)
        return await add_reference(session=session, opened=opened, user_id=user.id,
                                   reference=form.get("reference", ""), now=datetime.now(UTC))

    return await _act(request, session, current, report_id, "radicado", fill,
                      sent="radicado", form=form)


@router.post("/reportes/{report_id}/nota")
async def note(request: Request, report_id: str, session: SessionDep,
               current: Triager) -> Response:
    form = await read_form(request, current)
    user_id = current.signed_in.user.id
    return await _act(request, session, current, report_id, "nota", lambda opened: (
        add_note(session=session, opened=opened, user_id=user_id, text=form.get("text", ""),
                 now=datetime.now(UTC))), sent="nota", form=form)


@router.post("/reportes/{report_id}/mensaje")
async def message(request: Request, report_id: str, session: SessionDep, store: StoreDep,
                  current: Triager) -> Response:
    form = await read_form(request, current)
    user = current.signed_in.user

    async def send(opened: Opened) -> object:
        require_assignee(user=user, opened=opened)
        return await message_reporter(session=session, keyring=store.keyring, opened=opened,
                                      user_id=user.id, text=form.get("text", ""),
                                      now=datetime.now(UTC))

    return await _act(request, session, current, report_id, "mensaje", send,
                      sent="mensaje", form=form)


@router.post("/reportes/{report_id}/compartir")
async def share(request: Request, report_id: str, session: SessionDep, store: StoreDep,
                current: Triager) -> Response:
    form = await read_form(request, current)
    user_id = current.signed_in.user.id
    return await _act(request, session, current, report_id, "compartido", lambda opened: (
        share_report(session=session, keyring=store.keyring, opened=opened, user_id=user_id,
                     username=form.get("username", ""), now=datetime.now(UTC))))


@router.get("/reportes/{report_id}/archivos/{attachment_id}")
async def attachment(request: Request, report_id: str, attachment_id: str, session: SessionDep,
                     current: Triager) -> Response:
    """Evidence for preview (images, voice notes) or download; decrypted per request, audited."""
    file = await read_report_attachment(
        session=session, user_id=current.signed_in.user.id,
        private_key=current.signed_in.private_key, report_id=report_id,
        attachment_id=attachment_id,
    )
    if file is None:
        return error_page(request, current, MSG_NO_FILE, 404)
    response = evidence_response(file)
    if response.media_type in INLINE_TYPES and request.query_params.get("descargar") != "1":
        response.headers["Content-Disposition"] = "inline"
    # Nothing inside a file may run, even if it claims to be a page.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
