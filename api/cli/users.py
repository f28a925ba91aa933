"""`somos users`: list, reset (with the recovery key), disable and add staff accounts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from api.cli import app, fail, in_transaction, load_settings, otpauth_uri, valid_codes
from storage.models import User
from storage.recovery import RecoveryKeyMissing, decode_recovery_key
from storage.staff import StaffRefused, create_staff, disable_staff, restore_staff
from storage.store import Store
from storage.users import (
    UserError,
    generate_password,
    get_user_by_username,
    list_staff,
)

users_app = typer.Typer(help="Cuentas del personal (puntos focales, analistas, administradores).",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")


def _password(from_stdin: bool) -> str:
    """The password typed on standard input, or a generated one."""
    return sys.stdin.readline().rstrip("\r\n") if from_stdin else generate_password()


async def _existing_user(session: AsyncSession, username: str) -> User:
    user = await get_user_by_username(session=session, username=username)
    if user is None:
        raise fail(f"No existe el usuario {username!r}.")
    return user


@users_app.command("list")
def users_list() -> None:
    """Muestra las cuentas del personal, su rol, sus zonas y si están activas."""
    entries = in_transaction(load_settings(), lambda session, _: list_staff(session=session))
    for entry in entries:
        user = entry.user
        areas = ", ".join(entry.departments + entry.municipalities) or "—"
        state = "desactivada" if user.disabled else "activa"
        second = "con" if user.crypto_totp_secret is not None else "sin"
        typer.echo(f"{user.username}\t{user.role}\t{areas}\t{state}\t"
                   f"{second} verificación en dos pasos")


@users_app.command("reset")
def users_reset(
    username: Annotated[str, typer.Argument(help="Cuenta que perdió su contraseña.")],
    recovery_key_file: Annotated[
        Path, typer.Option(help="Archivo con la llave de recuperación de la organización.")
    ],
    password_stdin: Annotated[
        bool, typer.Option(help="Leer la nueva contraseña de la entrada estándar.")
    ] = False,
) -> None:
    """Restaura una cuenta con la llave de recuperación: sigue leyendo sus reportes."""
    try:
        recovery = decode_recovery_key(recovery_key_file.read_text(encoding="ascii"))
    except (OSError, ValueError):
        raise fail(f"No se pudo leer la llave de recuperación en {recovery_key_file}.") from None
    password = _password(password_stdin)

    async def work(session: AsyncSession, store: Store) -> None:
        user = await _existing_user(session, username)
        try:
            await restore_staff(session=session, user=user, actor="operator", via="cli",
                                recovery_private_key=recovery, new_password=password,
                                argon2_params=store.argon2)
        except UserError as error:
            raise fail(str(error)) from None

    in_transaction(load_settings(), work)
    typer.echo(f"Cuenta {username} restaurada; sus sesiones abiertas se cerraron.")
    if not password_stdin:
        typer.echo(f"password={password}")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="Cuenta a desactivar.")]) -> None:
    """Desactiva una cuenta: no puede entrar y sus sesiones abiertas terminan ya."""

    async def work(session: AsyncSession, _store: Store) -> None:
        user = await _existing_user(session, username)
        await disable_staff(session=session, user=user, actor="operator", via="cli")

    in_transaction(load_settings(), work)
    typer.echo(f"Cuenta {username} desactivada.")


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Nombre de usuario (sin espacios).")],
    role: Annotated[str, typer.Option(help="focal_point, analyst o admin.")],
    municipality: Annotated[
        list[str] | None, typer.Option(help="Código DIVIPOLA de 5 dígitos (repetible).")
    ] = None,
    department: Annotated[
        list[str] | None, typer.Option(help="Código de departamento de 2 dígitos (repetible).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Leer la contraseña de la entrada estándar.")
    ] = False,
) -> None:
    """Crea una cuenta e imprime su secreto TOTP (y una contraseña si no se dio)."""
    settings = load_settings()
    municipalities = valid_codes(municipality or [], 5)
    departments = valid_codes(department or [], 2)
    password = _password(password_stdin)

    async def work(session: AsyncSession, store: Store) -> str:
        try:
            created = await create_staff(
                session=session, keyring=store.keyring, actor="operator", via="cli",
                username=username, role=role, password=password,
                municipalities=municipalities, departments=departments,
                argon2_params=store.argon2, with_totp=True,
            )
        except (StaffRefused, RecoveryKeyMissing, UserError) as error:
            raise fail(str(error)) from None
        return created.totp_secret or ""

    secret = in_transaction(settings, work)
    typer.echo(f"user={username}")
    if not password_stdin:
        typer.echo(f"password={password}")
    typer.echo(f"secret={secret}")
    typer.echo(otpauth_uri(username, secret))
