"""`somos reports grant`: the open cases of a person's area, opened with the recovery key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from api.cli import app, fail, load_settings, progress, with_store
from storage.grants import Granted, GrantError, grant_open_cases, pending_for, recovery_opener
from storage.recovery import decode_recovery_key
from storage.store import Store
from storage.users import get_user_by_username

reports_app = typer.Typer(help="Los casos: quién puede leerlos.", no_args_is_help=True)
app.add_typer(reports_app, name="reports")


@reports_app.command("grant")
def reports_grant(
    username: Annotated[str, typer.Argument(help="Punto focal o administrador que recibe los "
                                                 "casos abiertos de su zona.")],
    recovery_key_file: Annotated[
        Path, typer.Option(help="Archivo con la llave de recuperación de la organización.")
    ],
) -> None:
    """Da acceso a los casos abiertos de la zona de una persona con la llave de recuperación.

    Para quien llegó a su zona después de los casos, si nadie que los abre puede hacerlo.
    """
    try:
        recovery = decode_recovery_key(recovery_key_file.read_text(encoding="ascii"))
    except (OSError, ValueError):
        raise fail(f"No se pudo leer la llave de recuperación en {recovery_key_file}.") from None

    async def work(store: Store) -> Granted:
        async with store.transaction() as session:
            user = await get_user_by_username(session=session, username=username)
            if user is None:
                raise fail(f"No existe el usuario {username!r}.")
            total = len(await pending_for(session=session, user=user))
            with progress("Dando acceso a los casos abiertos…", total) as advance:
                try:
                    return await grant_open_cases(
                        session=session, opener=recovery_opener(recovery), user=user,
                        via="cli", now=datetime.now(UTC), progress=advance)
                except GrantError as error:
                    raise fail(str(error)) from None

    done = with_store(load_settings(), work)
    if done.granted:
        typer.echo(f"{username} ya puede leer {done.granted} casos abiertos de su zona.")
    else:
        typer.echo(f"{username} ya podía leer todos los casos abiertos de su zona.")
