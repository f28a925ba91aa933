"""The `somos` command: init, serve, chat, users."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import pyotp
import typer
from pydantic import ValidationError

from api.labels import refusal_texts
from api.settings import Settings
from flows.municipalities import parse_codes
from storage.audit import append_audit
from storage.keyfile import KeyFileError
from storage.recovery import (
    RecoveryKeyMissing,
    create_recovery_key,
    decode_recovery_key,
    encode_recovery_key,
)
from storage.staff import StaffRefused, create_staff
from storage.store import Store
from storage.users import UserError, count_users, generate_password

app = typer.Typer(
    help="Somos: reportes anónimos de amenazas y riesgos para comunidades.",
    no_args_is_help=True,
    add_completion=False,
)
users_app = typer.Typer(help="Cuentas del personal (puntos focales, analistas, administradores).",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")
demo_app = typer.Typer(help="Datos sintéticos para probar Somos.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
export_app = typer.Typer(help="Exportaciones que se pueden compartir.", no_args_is_help=True)
app.add_typer(export_app, name="export")
rollups_app = typer.Typer(help="Los conteos agregados.", no_args_is_help=True)
app.add_typer(rollups_app, name="rollups")
routes_app = typer.Typer(help="Reglas de enrutamiento: quién recibe qué reportes.",
                         no_args_is_help=True)
app.add_typer(routes_app, name="routes")
audit_app = typer.Typer(help="El registro de auditoría encadenado.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
keys_app = typer.Typer(help="La clave del servidor (borradores, contactos, verificación en dos "
                        "pasos) y su rotación.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
lines_app = typer.Typer(help="Líneas de emergencia o de protección propias de un municipio.",
                        no_args_is_help=True)
app.add_typer(lines_app, name="lines")

T = TypeVar("T")
ISSUER = "Somos"


def fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code=1)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise fail(f"Configuración inválida: {problems}") from None


def with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Runs `work` with an open store and turns known failures into actionable messages."""
    from api.app import build_store

    async def run() -> T:
        store = build_store(settings)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except KeyFileError as error:
        raise fail(str(error)) from None
    except (OSError, ConnectionError) as error:
        raise fail(
            f"No se pudo abrir la base de datos ({type(error).__name__}: {error}). "
            "Si usa PostgreSQL: ¿está iniciado y es correcta SOMOS_DATABASE_URL?"
        ) from None


def otpauth_uri(username: str, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


@app.command()
def init(
    admin_username: Annotated[str, typer.Option(help="Nombre del primer administrador.")] = "admin",
    recovery_key_file: Annotated[
        Path | None,
        typer.Option(help="Además de mostrarla, guardar la llave de recuperación en este archivo."),
    ] = None,
) -> None:
    """Crea o actualiza el esquema, las llaves y el primer administrador. Idempotente."""
    from storage.migrate import upgrade

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def work(store: Store) -> list[str]:
        done: list[str] = []
        if await upgrade(store.engine):
            done.append("Esquema de la base de datos creado o actualizado.")
        async with store.transaction() as session:
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
                    descriptor = os.open(recovery_key_file,
                                         os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
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

    done = with_store(settings, work)
    if not done:
        typer.echo("Somos ya estaba inicializado: nada cambió.")
    for line in done:
        typer.echo(line)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Dirección en la que escuchar.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Puerto.")] = 8000,
) -> None:
    """Sirve la API, las páginas y el bot de Telegram en un solo proceso."""
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
    from api.app import build_conversations
    from bot.console import run_console
    from storage.migrate import current_revision, head_revision

    settings = load_settings()

    async def work(store: Store) -> None:
        if await current_revision(store.engine) != head_revision():
            raise fail("La base de datos no está inicializada: ejecute `somos init`.")
        await run_console(build_conversations(settings, store), locale=settings.locale)

    with_store(settings, work)


def _valid_codes(codes: list[str], digits: int) -> list[str]:
    parsed, refusals = parse_codes(codes, digits)
    if refusals:
        raise fail(" ".join(refusal_texts(refusals)))
    return parsed


@users_app.command("list")
def users_list() -> None:
    """Muestra las cuentas del personal, su rol, sus zonas y si están activas."""
    from storage.users import StaffEntry, list_staff

    async def work(store: Store) -> list[StaffEntry]:
        async with store.transaction() as session:
            return await list_staff(session=session)

    for entry in with_store(load_settings(), work):
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
    from storage.users import get_user_by_username, restore_with_recovery

    try:
        recovery = decode_recovery_key(recovery_key_file.read_text(encoding="ascii"))
    except (OSError, ValueError):
        raise fail(f"No se pudo leer la llave de recuperación en {recovery_key_file}.") from None
    generated = not password_stdin
    password = generate_password() if generated else sys.stdin.readline().rstrip("\r\n")

    async def work(store: Store) -> None:
        async with store.transaction() as session:
            user = await get_user_by_username(session=session, username=username)
            if user is None:
                raise fail(f"No existe el usuario {username!r}.")
            try:
                await restore_with_recovery(session=session, user=user,
                                            recovery_private_key=recovery,
                                            new_password=password, argon2_params=store.argon2)
            except UserError as error:
                raise fail(str(error)) from None
            await append_audit(session=session, actor="operator", action="user.restored",
                               detail={"user": user.id})

    with_store(load_settings(), work)
    typer.echo(f"Cuenta {username} restaurada; sus sesiones abiertas se cerraron.")
    if generated:
        typer.echo(f"password={password}")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="Cuenta a desactivar.")]) -> None:
    """Desactiva una cuenta: no puede entrar y sus sesiones abiertas terminan ya."""
    from storage.users import disable_user, get_user_by_username

    async def work(store: Store) -> None:
        async with store.transaction() as session:
            user = await get_user_by_username(session=session, username=username)
            if user is None:
                raise fail(f"No existe el usuario {username!r}.")
            await disable_user(session=session, user=user)
            await append_audit(session=session, actor="operator", action="user.disabled",
                               detail={"user": user.id})

    with_store(load_settings(), work)
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
    municipalities = _valid_codes(municipality or [], 5)
    departments = _valid_codes(department or [], 2)
    generated = not password_stdin
    password = generate_password() if generated else sys.stdin.readline().rstrip("\r\n")

    async def work(store: Store) -> str:
        async with store.transaction() as session:
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

    secret = with_store(settings, work)
    typer.echo(f"user={username}")
    if generated:
        typer.echo(f"password={password}")
    typer.echo(f"secret={secret}")
    typer.echo(otpauth_uri(username, secret))


@lines_app.command("add")
def lines_add(
    municipality: Annotated[str, typer.Argument(help="Código DIVIPOLA de 5 dígitos.")],
    name: Annotated[str, typer.Argument(help="Nombre de la línea, p. ej. «Personería».")],
    number: Annotated[str, typer.Argument(help="Número o contacto, p. ej. «602 727 1234».")],
) -> None:
    """Agrega una línea que el bot muestra en «Líneas de mi municipio»."""
    from storage.lines import add_line

    (code,) = _valid_codes([municipality], 5)
    if not name.strip() or not number.strip():
        raise fail("Escriba el nombre y el número de la línea.")

    async def work(store: Store) -> None:
        async with store.transaction() as session:
            await add_line(session=session, municipality_code=code, name=name, number=number)

    with_store(load_settings(), work)
    typer.echo(f"Línea agregada para {code}: {name.strip()} {number.strip()}")


@lines_app.command("list")
def lines_list(
    municipality: Annotated[str, typer.Argument(help="Código DIVIPOLA de 5 dígitos.")],
) -> None:
    """Muestra las líneas propias de un municipio."""
    from storage.lines import lines_for

    (code,) = _valid_codes([municipality], 5)

    async def work(store: Store) -> list[tuple[str, str]]:
        async with store.transaction() as session:
            return [(line.name, line.number)
                    for line in await lines_for(session=session, municipality_code=code)]

    found = with_store(load_settings(), work)
    if not found:
        typer.echo(f"No hay líneas propias registradas para {code}.")
    for line_name, line_number in found:
        typer.echo(f"{line_name}\t{line_number}")


@export_app.command("aggregates")
def export_aggregates(
    format: Annotated[str, typer.Option(help="csv, json o hxl.")] = "csv",
    profile: Annotated[str, typer.Option(help="analyst o public (k mínimo 10).")] = "analyst",
    group_by: Annotated[str, typer.Option(help="Una o dos dimensiones, con coma.")] = (
        "municipality,category"),
    since: Annotated[str | None, typer.Option("--from", help="Mes inicial AAAA-MM.")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Mes final AAAA-MM.")] = None,
    kind: Annotated[str | None, typer.Option(help="threat, stigma o priority.")] = None,
    lang: Annotated[str, typer.Option(help="Encabezados del CSV: en o es.")] = "en",
    out: Annotated[Path | None, typer.Option(help="Archivo de salida (si no, pantalla).")] = None,
) -> None:
    """Exporta conteos protegidos: ninguna celda entre 1 y k−1, ni totales que las revelen."""
    from rich.console import Console
    from rich.progress import Progress

    from api.aggregates import AggregateError, parse_group_by, protected_table, to_csv, to_json
    from storage.aggregates import Query

    if format not in ("csv", "json", "hxl") or profile not in ("analyst", "public"):
        raise fail("Use --format csv|json|hxl y --profile analyst|public.")
    settings = load_settings()
    try:
        query = Query(group_by=parse_group_by([group_by]), month_from=since, month_to=until,
                      kind=kind)
    except AggregateError as error:
        raise fail(str(error)) from None

    async def work(store: Store) -> str:
        with Progress(transient=True, console=Console(stderr=True)) as progress:
            task = progress.add_task("Contando y protegiendo…", total=2)
            async with store.transaction() as session:
                protected = await protected_table(session=session, query=query,
                                                  k=settings.suppression_k, profile=profile)
            progress.advance(task)
            text = (to_json(protected) if format == "json"
                    else to_csv(protected, locale=lang, hxl=format == "hxl"))
            progress.advance(task)
            return text

    text = with_store(settings, work)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"Exportación guardada en {out}.", err=True)


@rollups_app.command("rebuild")
def rollups_rebuild(
    check: Annotated[bool, typer.Option(help="Solo comparar, sin cambiar nada.")] = False,
) -> None:
    """Recuenta los agregados desde los reportes guardados y muestra cualquier diferencia."""
    from storage.aggregates import compare_rollups, rebuild_rollups

    async def work(store: Store) -> list[str]:
        async with store.transaction() as session:
            found = await (compare_rollups(session=session) if check
                           else rebuild_rollups(session=session))
        return [f"{d.table} {' '.join(d.cell)}: guardado {d.stored}, recontado {d.recounted}"
                for d in found]

    differences = with_store(load_settings(), work)
    if not differences:
        typer.echo("Los agregados coinciden con los reportes guardados.")
        return
    for line in differences:
        typer.echo(line)
    if check:
        raise typer.Exit(code=1)
    typer.echo(f"{len(differences)} celdas corregidas.")


@app.command()
def purge() -> None:
    """Borra el contenido de casos cerrados viejos (SOMOS_RETENTION_DAYS); los conteos quedan."""
    from datetime import UTC, datetime, timedelta

    from storage.retention import purge_closed_contents

    settings = load_settings()

    async def work(store: Store) -> int:
        now = datetime.now(UTC)
        async with store.transaction() as session:
            return await purge_closed_contents(
                session=session, now=now,
                older_than=now - timedelta(days=settings.retention_days),
            )

    typer.echo(f"Contenido borrado de {with_store(settings, work)} reportes.")


@app.command()
def backup(
    out: Annotated[Path | None, typer.Option(
        help="Archivo de la copia (nuevo). Por omisión: SOMOS_DATA_DIR/copias/somos-FECHA.db "
             "o .dump con PostgreSQL.")] = None,
) -> None:
    """Copia de seguridad de la base de datos, consistente aunque Somos esté funcionando."""
    from datetime import UTC, datetime

    from rich.console import Console
    from rich.progress import Progress

    from storage.backup import BackupError, default_backup_path
    from storage.backup import backup as make_backup

    settings = load_settings()
    url = settings.resolved_database_url
    target = out or default_backup_path(settings.data_dir / "copias", url, datetime.now(UTC))
    try:
        with Progress(transient=True, console=Console(stderr=True)) as progress:
            task = progress.add_task("Copiando la base de datos…", total=None)
            result = make_backup(url, target, lambda done, total: progress.update(
                task, completed=done, total=total))
    except BackupError as error:
        raise fail(str(error)) from None
    size = f"{result.size / 1_048_576:.1f} MB"
    reports = "" if result.reports is None else f", {result.reports} reportes"
    typer.echo(f"Copia guardada en {result.path} ({size}, {result.tables} tablas{reports}).")
    typer.echo(
        "Guarde aparte, fuera de este servidor, el archivo de claves "
        f"({settings.resolved_key_file}) y la llave de recuperación: la copia no los "
        "incluye, a propósito."
    )


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(help="La copia hecha con somos backup.")],
    replace: Annotated[bool, typer.Option(
        help="SQLite: reemplazar la base actual (se guarda al lado, no se borra).")] = False,
) -> None:
    """Pone una copia de seguridad en la base de datos configurada. Detenga somos serve antes."""
    from rich.console import Console
    from rich.progress import Progress

    from storage.backup import BackupError
    from storage.backup import restore as put_back

    settings = load_settings()
    try:
        with Progress(transient=True, console=Console(stderr=True)) as progress:
            task = progress.add_task("Restaurando…", total=None)
            kept = put_back(settings.resolved_database_url, source, replace=replace,
                            progress=lambda done, total: progress.update(
                                task, completed=done, total=total))
    except BackupError as error:
        raise fail(str(error)) from None
    if kept is not None:
        typer.echo(f"La base anterior quedó en {kept}.")
    if not settings.resolved_key_file.exists():
        typer.secho(
            f"Falta el archivo de claves {settings.resolved_key_file}. Póngalo ahí (el de la "
            "instalación de donde viene la copia) antes de somos init o somos serve: sin él se "
            "crearía uno nuevo y no se podrían abrir los borradores, los contactos guardados "
            "ni la verificación en dos pasos.", err=True, fg=typer.colors.YELLOW)
    typer.echo("Copia restaurada. Ejecute somos init para actualizar el esquema si hace falta, "
               "y somos audit verify para comprobar el registro de auditoría.")


def _key_file_for_rotation(settings: Settings) -> Path:
    if settings.keys is not None:
        raise fail("Las claves vienen de la variable SOMOS_KEYS: la rotación escribe el archivo "
                   "de claves. Use un archivo (SOMOS_KEY_FILE) para rotarlas.")
    path = settings.resolved_key_file
    if not path.exists():
        raise fail(f"No existe el archivo de claves {path}: ¿ya corrió somos init?")
    return path


def _reseal(settings: Settings, label: str) -> tuple[int, set[str]]:
    """Seals every server-sealed blob under the key file's current key; returns how many
    moved and which key ids are still named by some blob afterwards."""
    from rich.console import Console
    from rich.progress import Progress

    from storage.rotation import census, count_sealed, reseal_all

    async def work(store: Store) -> tuple[int, set[str]]:
        async with store.transaction() as session:
            total = await count_sealed(session=session)
        with Progress(transient=True, console=Console(stderr=True)) as progress:
            task = progress.add_task(label, total=total)
            async with store.transaction() as session:
                moved = await reseal_all(session=session, keyring=store.keyring,
                                         progress=lambda n: progress.advance(task, n))
        async with store.transaction() as session:
            in_use = (await census(session=session)).key_ids()
        return moved, in_use

    return with_store(settings, work)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Crea una clave del servidor nueva y vuelve a sellar todo con ella. Detenga somos serve antes.

    Las claves viejas quedan en el archivo hasta `somos keys retire`, para abrir lo que un
    servidor aún sin reiniciar haya sellado con ellas.
    """
    from storage.keyfile import load_keyring

    settings = load_settings()
    path = _key_file_for_rotation(settings)
    try:
        rotated = load_keyring(path).rotate_server_key()
    except KeyFileError as error:
        raise fail(str(error)) from None
    rotated.save(path)  # the new key is on disk before anything is sealed with it
    moved, _in_use = _reseal(settings, "Sellando de nuevo con la clave nueva…")
    typer.echo(f"Clave nueva del servidor: {rotated.current_server_key_id}. "
               f"{moved} elementos sellados de nuevo.")
    typer.echo("Inicie somos serve (usará la clave nueva) y después ejecute somos keys retire "
               "para quitar las claves viejas del archivo.")


@keys_app.command("retire")
def keys_retire() -> None:
    """Quita del archivo las claves viejas que ya nada usa (después de rotar y reiniciar)."""
    from storage.keyfile import load_keyring

    settings = load_settings()
    path = _key_file_for_rotation(settings)
    moved, in_use = _reseal(settings, "Revisando lo sellado…")
    try:
        keyring = load_keyring(path)
    except KeyFileError as error:
        raise fail(str(error)) from None
    old = set(keyring.server_keys) - {keyring.current_server_key_id}
    still_used = old & in_use
    retired = sorted(old - still_used)
    keyring.retire_server_keys(keep=still_used).save(path)
    if moved:
        typer.echo(f"{moved} elementos sellados todavía con claves viejas pasaron a la actual.")
    typer.echo(f"Claves retiradas: {', '.join(retired)}." if retired
               else "No había claves viejas que retirar.")
    if still_used:
        raise fail(f"Siguen en uso: {', '.join(sorted(still_used))}. ¿Hay un somos serve sin "
                   "reiniciar? Reinícielo y repita somos keys retire.")


@demo_app.command("seed")
def demo_seed(
    reports: Annotated[int, typer.Option(min=1, max=1_000_000, help="Cuántos reportes crear.")],
    force: Annotated[bool, typer.Option(help="Sembrar aunque haya reportes reales.")] = False,
    seed: Annotated[int | None, typer.Option(help="Semilla para repetir los datos.")] = None,
) -> None:
    """Crea reportes sintéticos por el camino real: enrutamiento, cifrado y agregados."""
    from rich.console import Console
    from rich.progress import Progress

    from api.demo import SeedRefused
    from api.demo import seed as seed_reports

    settings = load_settings()

    async def work(store: Store) -> int:
        with Progress(transient=True, console=Console(stderr=True)) as progress:
            task = progress.add_task("Sembrando reportes…", total=reports)
            return await seed_reports(
                store=store, count=reports, departments=settings.covered_departments,
                force=force, seed_value=seed,
                progress=lambda done: progress.advance(task, done),
            )

    try:
        written = with_store(settings, work)
    except SeedRefused as error:
        raise fail(str(error)) from None
    typer.echo(f"{written} reportes sintéticos creados.")


@routes_app.command("add")
def routes_add(
    username: Annotated[str, typer.Argument(help="Punto focal que recibirá los reportes.")],
    department: Annotated[str | None, typer.Option(help="Departamento (2 dígitos).")] = None,
    municipality: Annotated[str | None, typer.Option(help="Municipio (5 dígitos).")] = None,
    kind: Annotated[str | None, typer.Option(help="threat, stigma o priority.")] = None,
    category: Annotated[str | None, typer.Option(help="Código, p. ej. threat.extortion.")] = None,
    urgency: Annotated[str | None, typer.Option(help="immediate, high o normal.")] = None,
) -> None:
    """Agrega una regla. Sin lugar ni tipo, es el respaldo de toda la organización."""
    from api.routing_input import RuleInput, validate_rule
    from storage.routing import add_rule
    from storage.users import get_user_by_username

    problems = validate_rule(RuleInput(department, municipality, kind, category, urgency))
    if problems:
        raise fail(" ".join(problems))

    async def work(store: Store) -> str:
        async with store.transaction() as session:
            user = await get_user_by_username(session=session, username=username)
            if user is None:
                raise fail(f"No existe el usuario {username!r}: créelo con `somos users add`.")
            try:
                rule = await add_rule(session=session, user_id=user.id,
                                      department_code=department, municipality_code=municipality,
                                      kind=kind, category=category, urgency=urgency)
            except ValueError as error:
                raise fail(str(error)) from None
            return rule.id

    typer.echo(f"Regla creada: {with_store(load_settings(), work)}")


@routes_app.command("list")
def routes_list() -> None:
    """Muestra las reglas, de la más específica a la más general."""
    from storage.models import User
    from storage.routing import list_rules

    async def work(store: Store) -> list[str]:
        async with store.transaction() as session:
            lines = []
            for rule in await list_rules(session=session):
                user = await session.get(User, rule.user_id)
                place = rule.municipality_code or rule.department_code or "todo el país"
                what = rule.category or rule.kind or "todo tipo"
                urgency = rule.urgency or "toda urgencia"
                username = user.username if user else "?"
                lines.append(f"{rule.id}\t{place}\t{what}\t{urgency}\t→ {username}")
            return lines

    lines = with_store(load_settings(), work)
    if not lines:
        typer.echo("No hay reglas: cada punto focal recibe los reportes de su área.")
    for line in lines:
        typer.echo(line)


@routes_app.command("remove")
def routes_remove(rule_id: Annotated[str, typer.Argument(help="Id de la regla.")]) -> None:
    """Borra una regla."""
    from storage.routing import remove_rule

    async def work(store: Store) -> bool:
        async with store.transaction() as session:
            return await remove_rule(session=session, rule_id=rule_id)

    if not with_store(load_settings(), work):
        raise fail(f"No existe la regla {rule_id}. Vea las reglas con `somos routes list`.")
    typer.echo("Regla borrada.")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recalcula la cadena de hashes y nombra la primera entrada alterada."""
    from storage.audit import ChainCheck, verify_audit_chain

    async def work(store: Store) -> ChainCheck:
        async with store.transaction() as session:
            return await verify_audit_chain(session=session)

    check = with_store(load_settings(), work)
    if not check.ok:
        raise fail(
            f"La cadena de auditoría está rota en la entrada {check.broken_at} "
            f"({check.reason}). Revise quién tuvo acceso a la base de datos."
        )
    typer.echo(f"Cadena de auditoría íntegra: {check.entries} entradas verificadas.")


def main() -> None:
    app()
