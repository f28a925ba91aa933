"""`somos lines`: a municipality's own emergency and protection lines, shown by the bot."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from api.cli import app, fail, in_transaction, load_settings, valid_codes
from storage.lines import add_line, lines_for
from storage.store import Store

lines_app = typer.Typer(help="Líneas de emergencia o de protección propias de un municipio.",
                        no_args_is_help=True)
app.add_typer(lines_app, name="lines")


@lines_app.command("add")
def lines_add(
    municipality: Annotated[str, typer.Argument(help="Código DIVIPOLA de 5 dígitos.")],
    name: Annotated[str, typer.Argument(help="Nombre de la línea, p. ej. «Personería».")],
    number: Annotated[str, typer.Argument(help="Número o contacto, p. ej. «602 727 1234».")],
) -> None:
    """Agrega una línea que el bot muestra en «Líneas de mi municipio»."""
    (code,) = valid_codes([municipality], 5)
    if not name.strip() or not number.strip():
        raise fail("Escriba el nombre y el número de la línea.")
    in_transaction(load_settings(), lambda session, _: add_line(
        session=session, municipality_code=code, name=name, number=number))
    typer.echo(f"Línea agregada para {code}: {name.strip()} {number.strip()}")


@lines_app.command("list")
def lines_list(
    municipality: Annotated[str, typer.Argument(help="Código DIVIPOLA de 5 dígitos.")],
) -> None:
    """Muestra las líneas propias de un municipio."""
    (code,) = valid_codes([municipality], 5)

    async def work(session: AsyncSession, _store: Store) -> list[tuple[str, str]]:
        return [(line.name, line.number)
                for line in await lines_for(session=session, municipality_code=code)]

    found = in_transaction(load_settings(), work)
    if not found:
        typer.echo(f"No hay líneas propias registradas para {code}.")
    for line_name, line_number in found:
        typer.echo(f"{line_name}\t{line_number}")
