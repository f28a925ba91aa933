"""The data as a whole: `somos export aggregates`, `rollups rebuild`, `demo seed`, and
`somos purge`, `backup` and `restore`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from api.aggregates import AggregateError, parse_group_by, protected_table, to_csv, to_json
from api.cli import app, fail, in_transaction, load_settings, progress, valid_codes, with_store
from api.demo import SeedRefused
from api.demo import seed as seed_reports
from storage.aggregates import Query
from storage.backup import BackupError, default_backup_path
from storage.backup import backup as make_backup
from storage.backup import restore as put_back
from storage.recount import RollupDifference, compare_rollups, rebuild_rollups
from storage.retention import purge_closed_contents
from storage.store import Store

demo_app = typer.Typer(help="Datos sintéticos para probar Somos.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
export_app = typer.Typer(help="Exportaciones que se pueden compartir.", no_args_is_help=True)
app.add_typer(export_app, name="export")
rollups_app = typer.Typer(help="Los conteos agregados.", no_args_is_help=True)
app.add_typer(rollups_app, name="rollups")


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
    if format not in ("csv", "json", "hxl") or profile not in ("analyst", "public"):
        raise fail("Use --format csv|json|hxl y --profile analyst|public.")
    settings = load_settings()
    try:
        query = Query(group_by=parse_group_by([group_by]), month_from=since, month_to=until,
                      kind=kind)
    except AggregateError as error:
        raise fail(str(error)) from None

    async def work(session: AsyncSession, _store: Store) -> str:
        with progress("Contando y protegiendo…", 2) as advance:
            protected = await protected_table(session=session, query=query,
                                              k=settings.suppression_k, profile=profile)
            advance()
            text = (to_json(protected) if format == "json"
                    else to_csv(protected, locale=lang, hxl=format == "hxl"))
            advance()
            return text

    text = in_transaction(settings, work)
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

    async def work(session: AsyncSession, _store: Store) -> tuple[list[str], int]:
        if check:
            return [_difference_line(d) for d in await compare_rollups(session=session)], 0
        found = await rebuild_rollups(session=session)
        left = await compare_rollups(session=session) if found else []
        return [_difference_line(d) for d in found], len(left)

    differences, left = in_transaction(load_settings(), work)
    if not differences:
        typer.echo("Los agregados coinciden con los reportes guardados.")
        return
    for line in differences:
        typer.echo(line)
    if check:
        raise typer.Exit(code=1)
    typer.echo(f"{len(differences) - left} celdas corregidas.")
    if left:
        raise fail(f"{left} celdas no se pudieron corregir: son clasificaciones de prioridades "
                   "guardadas antes de la migración 0008, cuyos temas están cifrados en los "
                   "reportes. Los conteos verdaderos sí están bien.")


def _difference_line(d: RollupDifference) -> str:
    """One cell that differs: its count, and its noise or cell key when those differ too."""
    line = f"{d.table} {' '.join(d.cell)}: guardado {d.stored}, recontado {d.recounted}"
    if d.stored_perturbed != d.recounted_perturbed:
        line += f"; perturbado {d.stored_perturbed}, recontado {d.recounted_perturbed}"
    if d.stored_key_sum != d.recounted_key_sum:
        line += f"; clave de celda {d.stored_key_sum}, recontada {d.recounted_key_sum}"
    return line


@app.command()
def purge() -> None:
    """Borra el contenido de casos cerrados viejos (SOMOS_RETENTION_DAYS); los conteos quedan."""
    settings = load_settings()

    async def work(session: AsyncSession, _store: Store) -> int:
        now = datetime.now(UTC)
        return await purge_closed_contents(session=session, now=now,
                                    older_than=now - timedelta(days=settings.retention_days))

    typer.echo(f"Contenido borrado de {in_transaction(settings, work)} reportes.")


@app.command()
def backup(
    out: Annotated[Path | None, typer.Option(
        help="Archivo de la copia (nuevo). Por omisión: SOMOS_DATA_DIR/copias/somos-FECHA.db "
             "o .dump con PostgreSQL.")] = None,
) -> None:
    """Copia de seguridad de la base de datos, consistente aunque Somos esté funcionando."""
    settings = load_settings()
    url = settings.resolved_database_url
    target = out or default_backup_path(settings.data_dir / "copias", url, datetime.now(UTC))
    try:
        with progress("Copiando la base de datos…", None) as bar:
            result = make_backup(url, target, bar.to)
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
    settings = load_settings()
    try:
        with progress("Restaurando…", None) as bar:
            kept = put_back(settings.resolved_database_url, source, replace=replace,
                            progress=bar.to)
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


@demo_app.command("seed")
def demo_seed(
    reports: Annotated[int, typer.Option(min=1, max=1_000_000, help="Cuántos reportes crear.")],
    force: Annotated[bool, typer.Option(help="Sembrar aunque haya reportes reales.")] = False,
    seed: Annotated[int | None, typer.Option(help="Semilla para repetir los datos.")] = None,
    municipality: Annotated[list[str] | None, typer.Option(
        help="Solo en este municipio (código DIVIPOLA); se puede repetir.")] = None,
) -> None:
    """Crea reportes sintéticos por el camino real: enrutamiento, cifrado y agregados."""
    settings = load_settings()
    places = valid_codes(municipality or [], 5)

    async def work(store: Store) -> int:
        with progress("Sembrando reportes…", reports) as advance:
            return await seed_reports(
                store=store, count=reports, departments=settings.covered_departments,
                force=force, seed_value=seed, progress=advance, municipalities=places,
            )

    try:
        written = with_store(settings, work)
    except SeedRefused as error:
        raise fail(str(error)) from None
    typer.echo(f"{written} reportes sintéticos creados.")
