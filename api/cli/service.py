"""`somos init`, `somos serve` and `somos chat`: set up, run, and talk to the bot."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from api.cli import app, fail, load_settings, otpauth_uri, with_store
from bot.console import run_console
from storage.keyfile import KeyFileError
from storage.migrate import current_revision, head_revision, upgrade
from storage.recovery import create_recovery_key, encode_recovery_key
from storage.staff import create_staff
from storage.store import Store
from storage.users import count_users, generate_password


@app.command()
def init(
    admin_username: Annotated[str, typer.Option(help="Nombre del primer administrador.")] = "admin",
    recovery_key_file: Annotated[
        Path | None,
        typer.Option(help="Además de mostrarla, guardar la llave de recuperación en este archivo."),
    ] = None,
) -> None:
    """Crea o actualiza el esquema, las llaves y el primer administrador. Idempotente."""
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def work(store: Store) -> list[str]:
        done: list[str] = []
        if await upgrade(store.engine):
            done.append("Esquema de la base de datos creado o actualizado.")
        async with store.transaction() as session:
            done += await _first_keys_and_admin(session, store, admin_username,
                                                recovery_key_file)
        return done

    done = with_store(settings, work)
    if not done:
        typer.echo("Somos ya estaba inicializado: nada cambió.")
    for line in done:
        typer.echo(line)


async def _first_keys_and_admin(
    session: AsyncSession, store: Store, admin_username: str, recovery_key_file: Path | None
) -> list[str]:
    """Makes the recovery key and the first administrator if there are none yet; returns
    what to show (once)."""
    done: list[str] = []
    private_key = await create_recovery_key(session=session)
    if private_key is not None:
        encoded = encode_recovery_key(private_key)
        done.append(
            "LLAVE DE RECUPERACIÓN DE LA ORGANIZACIÓN (se muestra una sola vez).\n"
            "Guárdela fuera de este servidor, en papel o en un medio sin conexión:\n"
            f"  {encoded}"
        )
        if recovery_key_file is not None:
            # Created 0600 from the first byte: never readable by others, not even briefly.
            descriptor = os.open(recovery_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(encoded + "\n")
    if await count_users(session=session) == 0:
        password = generate_password()
        created = await create_staff(
            session=session, keyring=store.keyring, actor="operator", via="cli",
            username=admin_username, role="admin", password=password,
            argon2_params=store.argon2, with_totp=True,
        )
        done.append(
            "Primer administrador creado (datos que se muestran una sola vez):\n"
            f"  usuario={admin_username}\n  password={password}\n"
            f"  secret={created.totp_secret}\n"
            f"  {otpauth_uri(admin_username, created.totp_secret or '')}"
        )
    return done


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Dirección en la que escuchar.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Puerto.")] = 8000,
) -> None:
    """Sirve la API, las páginas y el bot de Telegram en un solo proceso."""
    # Deferred: uvicorn and api.app (FastAPI, the pages, the bot) add ~0.6 s to every command.
    import uvicorn

    from api.app import create_app

    settings = load_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        application = create_app(settings)
    except KeyFileError as error:
        raise fail(str(error)) from None
    uvicorn.run(application, host=host, port=port, log_config=None, access_log=False)


@app.command()
def chat() -> None:
    """Conversa con el bot en esta terminal (los mismos flujos que en Telegram)."""
    # Deferred: api.app (FastAPI, the pages, the Telegram bot) adds ~0.6 s to every command.
    from api.app import build_conversations

    settings = load_settings()

    async def work(store: Store) -> None:
        if await current_revision(store.engine) != head_revision():
            raise fail("La base de datos no está inicializada: ejecute `somos init`.")
        await run_console(build_conversations(settings, store), locale=settings.locale)

    with_store(settings, work)
