"""`somos routes`: the routing rules that say who receives which reports."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from api.cli import app, fail, in_transaction, load_settings
from api.routing_input import RuleInput, validate_rule
from storage.models import User
from storage.routing import create_rule, delete_rule, list_rules
from storage.store import Store
from storage.users import get_user_by_username

routes_app = typer.Typer(help="Reglas de enrutamiento: quién recibe qué reportes.",
                         no_args_is_help=True)
app.add_typer(routes_app, name="routes")


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
    problems = validate_rule(RuleInput(department, municipality, kind, category, urgency))
    if problems:
        raise fail(" ".join(problems))

    async def work(session: AsyncSession, _store: Store) -> str:
        user = await get_user_by_username(session=session, username=username)
        if user is None:
            raise fail(f"No existe el usuario {username!r}: créelo con `somos users add`.")
        try:
            rule = await create_rule(session=session, actor="operator", user_id=user.id,
                                     department_code=department,
                                     municipality_code=municipality, kind=kind,
                                     category=category, urgency=urgency)
        except ValueError as error:
            raise fail(str(error)) from None
        return rule.id

    typer.echo(f"Regla creada: {in_transaction(load_settings(), work)}")


@routes_app.command("list")
def routes_list() -> None:
    """Muestra las reglas, de la más específica a la más general."""

    async def work(session: AsyncSession, _store: Store) -> list[str]:
        lines = []
        for rule in await list_rules(session=session):
            user = await session.get(User, rule.user_id)
            place = rule.municipality_code or rule.department_code or "todo el país"
            what = rule.category or rule.kind or "todo tipo"
            urgency = rule.urgency or "toda urgencia"
            username = user.username if user else "?"
            lines.append(f"{rule.id}\t{place}\t{what}\t{urgency}\t→ {username}")
        return lines

    lines = in_transaction(load_settings(), work)
    if not lines:
        typer.echo("No hay reglas: cada punto focal recibe los reportes de su área.")
    for line in lines:
        typer.echo(line)


@routes_app.command("remove")
def routes_remove(rule_id: Annotated[str, typer.Argument(help="Id de la regla.")]) -> None:
    """Borra una regla."""
    if not in_transaction(load_settings(),
                          lambda session, _: delete_rule(session=session, actor="operator",
                                                          rule_id=rule_id)):
        raise fail(f"No existe la regla {rule_id}. Vea las reglas con `somos routes list`.")
    typer.echo("Regla borrada.")
