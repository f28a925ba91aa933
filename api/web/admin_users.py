"""Admin pages for staff accounts (`/admin/usuarios`): the list, a new account with a
one-time password (`storage.staff.create_staff`, as the CLI and the API), disabling an
account, and a new password from the organization's recovery key."""

from __future__ import annotations

import binascii
from collections.abc import Sequence

from fastapi import APIRouter, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import SessionDep, StoreDep
from api.web import labels
from api.web.admin import Notice, codes, refused
from api.web.forms import Admin, done_notice, error_page, read_form, redirect
from api.web.render import render
from api.web.security import WebSession
from api.web.team import grant_from_page
from flows.messages import N_
from storage.grants import Granted, count_openable, pending_for
from storage.models import User
from storage.recovery import decode_recovery_key
from storage.staff import create_staff, disable_staff, restore_staff, staff_refusals
from storage.users import (
    ROLES,
    UserError,
    generate_password,
    list_staff,
)

router = APIRouter(include_in_schema=False)
MSG_NO_USER = N_("Esa cuenta no existe. Vuelva a la lista de usuarios.")
MSG_NOT_YOURSELF = N_("No puede desactivar su propia cuenta. Pida a otra persona "
                      "administradora que lo haga.")
MSG_RESTORE_YOURSELF = N_("Para su propia cuenta, cambie la contraseña en «Mi cuenta».")
MSG_DISABLED = N_("Esta cuenta está desactivada.")
MSG_BAD_RECOVERY_KEY = N_("La llave de recuperación no se pudo leer. Péguela completa, tal "
                          "como la mostró `somos init`.")
DONE = {
    "desactivada": N_("La cuenta quedó desactivada. Sus sesiones abiertas se cerraron."),
}


async def _users_page(request: Request, session: AsyncSession, current: WebSession, *,
                      errors: Sequence[Notice] = (), entered: dict[str, str] | None = None,
                      status_code: int = 200) -> Response:
    return render(request, "admin_users.html", {
        "current": current, "staff": await list_staff(session=session), "labels": labels,
        "roles": ROLES,
        "errors": errors, "entered": entered or {}, "done": done_notice(request, DONE),
    }, status_code=status_code)


@router.get("/admin/usuarios")
async def users_page(request: Request, session: SessionDep, current: Admin) -> Response:
    return await _users_page(request, session, current)


@router.post("/admin/usuarios")
async def create_user_page(request: Request, session: SessionDep, store: StoreDep,
                           current: Admin) -> Response:
    form = await read_form(request, current)
    username = form.get("username", "")
    role = form.get("role", "")
    problems = refused(request, await staff_refusals(session=session, username=username,
                                                      role=role))
    municipalities, wrong = codes(request, form.get("municipalities", ""), 5)
    problems += wrong
    departments, wrong = codes(request, form.get("departments", ""), 2)
    problems += wrong
    if problems:
        return await _users_page(request, session, current, errors=problems, entered=form,
                                 status_code=422)
    password = generate_password()
    await create_staff(
        session=session, keyring=store.keyring, actor=current.signed_in.user.id, via="web",
        username=username, role=role, password=password, municipalities=municipalities,
        departments=departments, argon2_params=store.argon2,
    )
    return render(request, "admin_password.html", {
        "current": current, "username": username, "password": password, "created": True,
        "enrolled": False,
    })


async def _user_page(request: Request, session: AsyncSession, current: WebSession,
                     user_id: str, *, errors: Sequence[Notice] = (),
                     granted: Granted | None = None, status_code: int = 200) -> Response:
    row = next((r for r in await list_staff(session=session) if r.user.id == user_id), None)
    if row is None:
        return error_page(request, current, MSG_NO_USER, 404)
    pending = await pending_for(session=session, user=row.user)
    return render(request, "admin_user.html", {
        "current": current, "row": row, "labels": labels, "errors": errors, "done": None,
        "yourself": user_id == current.signed_in.user.id, "pending": len(pending),
        "openable": await count_openable(session=session, reports=pending,
                                         user_id=current.signed_in.user.id),
        "grant": granted, "granted_to": row.user.username,
    }, status_code=status_code)


@router.get("/admin/usuarios/{user_id}")
async def user_page(request: Request, user_id: str, session: SessionDep,
                    current: Admin) -> Response:
    return await _user_page(request, session, current, user_id)


@router.post("/admin/usuarios/{user_id}/desactivar")
async def disable(request: Request, user_id: str, session: SessionDep,
                  current: Admin) -> Response:
    await read_form(request, current)
    user = await session.get(User, user_id)
    if user is None:
        return error_page(request, current, MSG_NO_USER, 404)
    if user.id == current.signed_in.user.id:
        return await _user_page(request, session, current, user_id,
                                errors=[Notice(MSG_NOT_YOURSELF)], status_code=422)
    await disable_staff(session=session, user=user, actor=current.signed_in.user.id, via="web")
    return redirect("/admin/usuarios?hecho=desactivada")


@router.post("/admin/usuarios/{user_id}/acceso")
async def grant(request: Request, user_id: str, session: SessionDep,
                current: Admin) -> Response:
    await read_form(request, current)
    user = await session.get(User, user_id)
    if user is None:
        return error_page(request, current, MSG_NO_USER, 404)
    outcome = await grant_from_page(session, current, user)
    if isinstance(outcome, str):
        return await _user_page(request, session, current, user_id,
                                errors=[Notice(outcome)], status_code=422)
    return await _user_page(request, session, current, user_id, granted=outcome)


@router.post("/admin/usuarios/{user_id}/restablecer")
async def restore(request: Request, user_id: str, session: SessionDep, store: StoreDep,
                  current: Admin) -> Response:
    form = await read_form(request, current)
    user = await session.get(User, user_id)
    if user is None:
        return error_page(request, current, MSG_NO_USER, 404)
    problem: Notice | None = None
    recovery = b""
    if user.id == current.signed_in.user.id:
        problem = Notice(MSG_RESTORE_YOURSELF)
    elif user.disabled:
        problem = Notice(MSG_DISABLED)
    else:
        try:
            recovery = decode_recovery_key(form.get("recovery_key", ""))
        except (binascii.Error, ValueError):
            problem = Notice(MSG_BAD_RECOVERY_KEY)
    password = generate_password()
    if problem is None:
        try:
            await restore_staff(session=session, user=user, actor=current.signed_in.user.id,
                                via="web", recovery_private_key=recovery,
                                new_password=password, argon2_params=store.argon2)
        except UserError as error:
            problem = Notice(detail=str(error))
    if problem is not None:
        return await _user_page(request, session, current, user_id, errors=[problem],
                                status_code=422)
    return render(request, "admin_password.html", {
        "current": current, "username": user.username, "password": password, "created": False,
        "enrolled": user.crypto_totp_secret is not None,
    })
