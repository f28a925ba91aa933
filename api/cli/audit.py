"""`somos audit verify`: recompute the audit log's hash chain."""

from __future__ import annotations

import typer

from api.cli import app, fail, in_transaction, load_settings
from storage.audit import verify_audit_chain

audit_app = typer.Typer(help="El registro de auditoría encadenado.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recalcula la cadena de hashes y nombra la primera entrada alterada."""
    check = in_transaction(load_settings(),
                           lambda session, _: verify_audit_chain(session=session))
    if not check.ok:
        raise fail(
            f"La cadena de auditoría está rota en la entrada {check.broken_at} "
            f"({check.reason}). Revise quién tuvo acceso a la base de datos."
        )
    typer.echo(f"Cadena de auditoría íntegra: {check.entries} entradas verificadas.")
