"""The `somos` command: the Typer app, its entry point and what every command shares.

Shared here: `fail` (a red message, exit 1), `load_settings`, `with_store` (an open
store for work that spans several transactions), `in_transaction` (the usual case: one
transaction), `progress` (a transient progress bar on stderr), `valid_codes` (DIVIPOLA
codes typed as arguments) and `otpauth_uri` (the second factor's link).

The commands live one group to a module: `service` (init, serve, chat), `users`,
`reports` (grant), `keys`, `routes`, `lines`, `alerts`, `audit` and `data` (export aggregates,
rollups rebuild, demo seed, backup, restore, purge). Each registers its commands on `app` or on the
sub-app it makes; they are imported at the end of this module, in the order `--help`
lists them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pyotp
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress, TaskID
from sqlmodel.ext.asyncio.session import AsyncSession

from api.labels import refusal_texts
from api.settings import Settings
from flows.municipalities import parse_codes
from storage.keyfile import KeyFileError
from storage.store import Store

T = TypeVar("T")
ISSUER = "Somos"

app = typer.Typer(
    help="Somos: reportes anónimos de amenazas y riesgos para comunidades.",
    no_args_is_help=True,
    add_completion=False,
)


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
    """Runs `work` with an open store and turns known failures into actionable messages.

    For work that spans several transactions; most commands want `in_transaction`."""
    # Deferred: api.app (FastAPI, the pages, the Telegram bot) adds ~0.6 s to every command.
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


def in_transaction(settings: Settings, fn: Callable[[AsyncSession, Store], Awaitable[T]]) -> T:
    """Runs `fn(session, store)` inside one transaction of an open store (see `with_store`)."""

    async def work(store: Store) -> T:
        async with store.transaction() as session:
            return await fn(session, store)

    return with_store(settings, work)


class Bar:
    """A running progress bar: call it to advance, or `to(done, total)` to set both."""

    def __init__(self, bar: Progress, task: TaskID) -> None:
        self._bar = bar
        self._task = task

    def __call__(self, steps: int = 1) -> None:
        self._bar.advance(self._task, steps)

    def to(self, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total)


@contextmanager
def progress(label: str, total: int | None) -> Iterator[Bar]:
    """A transient progress bar on stderr (`total=None`: no end known yet)."""
    with Progress(transient=True, console=Console(stderr=True)) as bar:
        yield Bar(bar, bar.add_task(label, total=total))


def valid_codes(codes: list[str], digits: int) -> list[str]:
    """DIVIPOLA codes as storage wants them, or a failure naming each refused one."""
    parsed, refusals = parse_codes(codes, digits)
    if refusals:
        raise fail(" ".join(refusal_texts(refusals)))
    return parsed


def otpauth_uri(username: str, secret: str) -> str:
    """The otpauth:// link an authenticator app reads (as text or as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def main() -> None:
    # Everything Somos writes (database, WAL, keys, backups, secrets) is for its own user.
    os.umask(0o077)
    app()


# Last, because each command module imports `app` and the helpers above; in this order,
# because it is the order `somos --help` lists the commands and groups in.
# isort: off
from api.cli import service  # noqa: E402,F401  init, serve, chat
from api.cli import users  # noqa: E402,F401
from api.cli import reports  # noqa: E402,F401  grant
from api.cli import data  # noqa: E402,F401  purge, backup, restore; demo, export, rollups
from api.cli import routes  # noqa: E402,F401
from api.cli import audit  # noqa: E402,F401
from api.cli import keys  # noqa: E402,F401
from api.cli import lines  # noqa: E402,F401
from api.cli import bulletin  # noqa: E402,F401
from api.cli import alerts  # noqa: E402,F401
# isort: on
