"""`somos init`, `somos serve` and `somos chat`: set up, run, and talk to the bot."""

from __future__ import annotations

import logging
import os
import sys
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

SECRETS_FILE = "secretos-iniciales.txt"
# What `somos init` shows once: the recovery key, the first administrator's secrets.
SECRET_MARKS = ("LLAVE DE RECUPERACIÓN", "Primer administrador")


@app.command()
def init(
    admin_username: Annotated[str, typer.Option(help="Nombre del primer administrador.")] = "admin",
    recovery_key_file: Annotated[
        Path | None,
        typer.Option(help="Además de mostrarla, guardar la llave de recuperación en este archivo."),
    ] = None,
    secrets_file: Annotated[
        Path | None,
        typer.Option(help="Sin terminal, los secretos iniciales se guardan aquí (modo 0600). "
                          "Por omisión: SOMOS_DATA_DIR/" + SECRETS_FILE + "."),
    ] = None,
) -> None:
    """Crea o actualiza el esquema, las llaves y el primer administrador. Idempotente."""
    settings = load_settings()
    _private_data_dir(settings.data_dir)

    async def work(store: Store) -> list[str]:
        done: list[str] = []
        if await upgrade(store.engine):
            done.append("Esquema de la base de datos creado o actualizado.")
        async with store.transaction() as session:
            done += await _first_keys_and_admin(session, store, admin_username,
                                                recovery_key_file)
        return done

    done = with_store(settings, work)
    _private_data_dir(settings.data_dir)  # the database and its WAL, now that they exist
    if not done:
        typer.echo("Somos ya estaba inicializado: nada cambió.")
    secrets = [line for line in done if line.startswith(SECRET_MARKS)]
    for line in done:
        if line not in secrets:
            typer.echo(line)
    if not secrets:
        return
    if sys.stdout.isatty():
        for line in secrets:
            typer.echo(line)
        return
    # Not a terminal (a container's log, a pipe, a file): secrets never go there.
    path = _new_private_file(secrets_file or settings.data_dir / SECRETS_FILE,
                             "\n\n".join(secrets) + "\n")
    typer.echo(f"Los secretos iniciales (llave de recuperación, contraseña y código TOTP del "
               f"primer administrador) quedaron en {path}, legible solo por este usuario. "
               "Cópielos a un lugar seguro fuera del servidor y borre el archivo.")


def _private_data_dir(path: Path) -> None:
    """The data directory 0700 and the files directly in it 0600, also when an older
    version of Somos (or a hand-made directory) left them readable by others."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    for child in path.iterdir():
        if child.is_file() and not child.is_symlink():
            child.chmod(0o600)


def _new_private_file(path: Path, text: str) -> Path:
    """Writes `text` to a new file of mode 0600 from its first byte; never overwrites (a
    second file gets a number)."""
    for attempt in range(1, 100):
        candidate = path if attempt == 1 else path.with_stem(f"{path.stem}-{attempt}")
        try:
            descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        return candidate
    raise fail(f"Ya hay demasiados archivos de secretos en {path.parent}: borre los viejos.")


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
    from api.memory import return_big_blocks_to_the_system

    return_big_blocks_to_the_system()
    try:
        application = create_app(settings)
    except KeyFileError as error:
        raise fail(str(error)) from None
    # The app reads proxy headers itself, from SOMOS_TRUSTED_PROXIES only (`create_app`).
    uvicorn.run(application, host=host, port=port, log_config=None, access_log=False,
                proxy_headers=False)


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
