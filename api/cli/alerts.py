"""`somos alerts`: run the early-warning job now, and list the newest alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from api.cli import app, in_transaction, load_settings
from api.labels import municipality_name
from storage.alerts import raise_alerts, recent_alerts
from storage.store import Store

alerts_app = typer.Typer(help="Alertas tempranas: aumentos inusuales de reportes por lugar.",
                         no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("run")
def alerts_run() -> None:
    """Compara ya cada lugar con su pasado y avisa de cada alerta nueva a sus puntos focales.

    El servidor lo hace solo cada SOMOS_ALERT_INTERVAL_MINUTES."""
    settings = load_settings()
    rule = settings.alert_rule

    async def work(session: AsyncSession, store: Store) -> int:
        return len(await raise_alerts(session=session, keyring=store.keyring,
                                      now=datetime.now(UTC), rule=rule))

    raised = in_transaction(settings, work)
    typer.echo(f"Alertas nuevas: {raised}.")


@alerts_app.command("list")
def alerts_list(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Cuántas, las más nuevas.")] = 50,
) -> None:
    """Muestra las alertas más nuevas con sus cifras exactas."""

    async def work(session: AsyncSession, _store: Store) -> list[str]:
        return [
            "\t".join((alert.id, alert.created_at.date().isoformat(),
                       municipality_name(alert.municipality_code), alert.kind,
                       alert.category or "-",
                       f"{alert.window_start.date()}..{alert.window_end.date()}",
                       f"{alert.observed} (usual {alert.baseline / alert.baseline_windows:.1f})",
                       "atendida" if alert.acknowledged_at else "sin atender"))
            for alert in await recent_alerts(session=session, limit=limit)]

    found = in_transaction(load_settings(), work)
    if not found:
        typer.echo("No hay alertas.")
    for line in found:
        typer.echo(line)
