"""FastAPI dependencies as Annotated aliases: the store, a transaction, the current user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth import needs_totp_enrollment
from api.problems import Problem
from api.settings import Settings
from storage.sessions import OpenSession, resolve_session
from storage.store import Store

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_session(store: StoreDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    async with store.transaction() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_current_session(
    session: SessionDep, settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> OpenSession:
    if not token:
        raise Problem(401, "Inicie sesión para continuar.",
                      headers={"WWW-Authenticate": "Bearer"})
    opened = await resolve_session(session=session, token=token)
    if opened is None:
        raise Problem(401, "La sesión no es válida o expiró. Inicie sesión de nuevo.",
                      headers={"WWW-Authenticate": "Bearer"})
    if needs_totp_enrollment(settings, opened.user):
        # A web session opened only to enroll the second factor is not an API session.
        raise Problem(401, "Active la verificación en dos pasos en la página web primero.",
                      headers={"WWW-Authenticate": "Bearer"})
    return opened


CurrentSession = Annotated[OpenSession, Depends(get_current_session)]


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, OpenSession]]:
    async def check(current: CurrentSession) -> OpenSession:
        if current.user.role not in roles:
            raise Problem(403, "Su rol no tiene acceso a esta sección.")
        return current

    return check


TriageSession = Annotated[OpenSession, Depends(require_roles("focal_point", "admin"))]
