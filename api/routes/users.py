"""Staff accounts over the API (admins): list, create, disable.

The same rules as `somos users` and the admin pages: accounts made here get a one-time
password and enroll their second factor at their first web sign-in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import SessionDep, StoreDep, require_roles
from api.labels import refusal_texts
from api.params import STORABLE, UserId
from api.problems import Problem, problem_responses
from flows.municipalities import parse_codes
from storage.models import User
from storage.sessions import OpenSession
from storage.staff import create_staff, disable_staff, staff_refusals
from storage.users import (
    USERNAME_PATTERN,
    StaffEntry,
    generate_password,
    list_staff,
)

router = APIRouter(prefix="/api/v1/users", tags=["admin"])
AdminSession = Annotated[OpenSession, Depends(require_roles("admin"))]
NOT_FOUND = "No existe esa cuenta."


class UserOut(BaseModel):
    id: str
    username: str
    role: str
    disabled: bool
    municipalities: list[str]
    departments: list[str]
    second_factor: bool = Field(description="Tiene verificación en dos pasos.")
    telegram_linked: bool = Field(description="Recibe avisos en su Telegram.")
    created_at: datetime


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=USERNAME_PATTERN,
                          description="De 2 a 64 caracteres, sin espacios ni caracteres "
                                      "de control o invisibles.")
    role: Literal["focal_point", "analyst", "admin"]
    municipalities: list[Annotated[str, Field(pattern=STORABLE, max_length=16)]] = Field(
        default_factory=list, max_length=200, description="Códigos DIVIPOLA de 5 dígitos.")
    departments: list[Annotated[str, Field(pattern=STORABLE, max_length=16)]] = Field(
        default_factory=list, max_length=40, description="Códigos DIVIPOLA de 2 dígitos.")


class NewUserOut(BaseModel):
    user: UserOut
    password: str = Field(description="Contraseña de un solo uso: se muestra solo esta vez.")


def _out(entry: StaffEntry) -> UserOut:
    user = entry.user
    return UserOut(
        id=user.id, username=user.username, role=user.role, disabled=user.disabled,
        municipalities=entry.municipalities, departments=entry.departments,
        second_factor=user.crypto_totp_secret is not None,
        telegram_linked=user.crypto_telegram_chat is not None, created_at=user.created_at,
    )


async def _entry(session: SessionDep, user_id: str) -> StaffEntry:
    found = await list_staff(session=session, user_id=user_id)
    if not found:
        raise Problem(404, NOT_FOUND)
    return found[0]


@router.get("", responses=problem_responses(401, 403))
async def users(current: AdminSession, session: SessionDep) -> list[UserOut]:
    """Every staff account, by username, with its areas. No secrets."""
    return [_out(entry) for entry in await list_staff(session=session)]


@router.get("/{user_id}", responses=problem_responses(401, 403, 404, 422))
async def user(user_id: UserId, current: AdminSession, session: SessionDep) -> UserOut:
    return _out(await _entry(session, user_id))


@router.post("", status_code=201, responses=problem_responses(400, 401, 403, 422))
async def create(body: UserIn, current: AdminSession, session: SessionDep,
                 store: StoreDep) -> NewUserOut:
    """Creates an account with a one-time password; its second factor is enrolled at the
    first web sign-in."""
    municipalities, refused = parse_codes(body.municipalities, 5)
    departments, refused_departments = parse_codes(body.departments, 2)
    refused += refused_departments
    refused += await staff_refusals(session=session, username=body.username, role=body.role)
    if refused:
        raise Problem(422, " ".join(refusal_texts(refused)), code="invalid-user")
    password = generate_password()
    created = await create_staff(
        session=session, keyring=store.keyring, actor=current.user.id, via="api",
        username=body.username, role=body.role, password=password,
        municipalities=municipalities, departments=departments, argon2_params=store.argon2,
    )
    return NewUserOut(user=_out(await _entry(session, created.user.id)), password=password)


@router.post("/{user_id}/disable", responses=problem_responses(401, 403, 404, 422))
async def disable(user_id: UserId, current: AdminSession, session: SessionDep) -> UserOut:
    """Disables an account: its sessions end at once; its reports stay readable by others."""
    target = await session.get(User, user_id)
    if target is None:
        raise Problem(404, NOT_FOUND)
    if target.id == current.user.id:
        raise Problem(422, "No puede desactivar su propia cuenta.", code="yourself")
    await disable_staff(session=session, user=target, actor=current.user.id, via="api")
    return _out(await _entry(session, user_id))
