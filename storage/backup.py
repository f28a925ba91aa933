"""Consistent copies of the database for the operator, and putting one back.

A copy holds what the database holds: reports sealed for their recipients, clear
routing metadata, rollups, the audit chain. It does not hold the key file (server
key and pepper) nor the organization recovery key: those are kept apart, so a lost
backup alone opens no draft and recomputes no pseudonym. It does hold the chat epochs
live when it was taken, their peppers sealed with the server key: together with the key
file, a kept copy still lets its chats be guessed at (slowly, `storage.epochs`) after
the server destroyed those epochs, so copies are best kept no longer than needed.

SQLite copies use SQLite's online backup (consistent while `somos serve` writes);
PostgreSQL copies use `pg_dump --format=custom` (one snapshot) and come back with
`pg_restore`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

# Pages copied per step of SQLite's online backup: small enough that a busy server is
# never locked out for long, large enough that a big file copies quickly.
SQLITE_PAGES_PER_STEP = 1024
PG_DUMP_TIMEOUT = 6 * 60 * 60
# A table's rows in `pg_restore --list`: "215; 0 16403 TABLE DATA public reports postgres".
_TABLE_DATA = re.compile(r"^\d+; \d+ \d+ TABLE DATA public (\S+)", re.MULTILINE)

Progress = Callable[[int, int], None]


class BackupError(Exception):
    """A backup or restore that could not be done (message in Spanish, actionable)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    tables: int
    reports: int | None  # counted in the copy itself where the copy can be read directly


def backend_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    return "postgresql" if backend in ("postgresql", "postgres") else backend


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("La base de datos SQLite no es un archivo: no hay nada que copiar.")
    return Path(database)


def default_backup_path(backups_dir: Path, url: str, now: datetime) -> Path:
    suffix = ".db" if backend_of(url) == "sqlite" else ".dump"
    return backups_dir / f"somos-{now.strftime('%Y%m%d-%H%M%S')}{suffix}"


def backup(url: str, target: Path, progress: Progress | None = None) -> BackupResult:
    """Writes a consistent copy of the database at `url` to `target` (new file, mode 0600)."""
    backend = backend_of(url)
    if backend == "sqlite":
        return _backup_sqlite(sqlite_path(url), target, progress)
    if backend == "postgresql":
        return _backup_postgresql(make_url(url), target)
    raise BackupError(f"Base de datos no soportada: {backend}.")


def restore(
    url: str, source: Path, *, replace: bool, progress: Progress | None = None
) -> Path | None:
    """Puts the copy `source` into the database at `url`.

    SQLite: refuses an existing database file unless `replace`; then the old file is kept
    beside it (returned) rather than deleted. PostgreSQL: the database must exist and be
    empty (create it with `createdb`); `replace` is refused there, on purpose.
    The schema is not upgraded here: `somos init` does that afterwards.
    """
    if not source.is_file():
        raise BackupError(f"No existe la copia {source}.")
    backend = backend_of(url)
    if backend == "sqlite":
        return _restore_sqlite(source, sqlite_path(url), replace=replace, progress=progress)
    if backend == "postgresql":
        if replace:
            raise BackupError(
                "Con PostgreSQL la restauración va a una base de datos nueva y vacía "
                "(createdb); no reemplaza una que tiene datos."
            )
        _restore_postgresql(make_url(url), source)
        return None
    raise BackupError(f"Base de datos no soportada: {backend}.")


# --- SQLite -------------------------------------------------------------------------------


def _new_private_file(path: Path) -> None:
    """Creates `path` empty with mode 0600; refuses to overwrite anything."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"Ya existe {path}: elija otro nombre con --out.") from None
    except OSError as error:
        raise BackupError(f"No se pudo crear {path}: {error.strerror}.") from None
    os.close(fd)


@contextlib.contextmanager
def _connect(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    connection = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        yield connection
    finally:
        connection.close()


def _copy_sqlite(source: Path, target: Path, progress: Progress | None) -> None:
    def step(_status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)

    with _connect(source, read_only=True) as src, _connect(target) as dst:
        src.backup(dst, pages=SQLITE_PAGES_PER_STEP, progress=step)
        # One self-contained file: no -wal beside it to forget when it is moved.
        dst.execute("PRAGMA journal_mode=DELETE")


def _check_sqlite(path: Path) -> tuple[int, int]:
    """Tables and reports in a SQLite copy, after SQLite's own integrity check."""
    with _connect(path, read_only=True) as copy:
        try:
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {row[0] for row in copy.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if verdict != "ok" or "alembic_version" not in tables or "reports" not in tables:
                raise BackupError(f"{path} no es una copia de Somos utilizable ({verdict}).")
            reports = copy.execute("SELECT count(*) FROM reports").fetchone()[0]
        except sqlite3.DatabaseError:
            raise BackupError(f"{path} no es una base de datos SQLite de Somos.") from None
    return len(tables), int(reports)


def _backup_sqlite(source: Path, target: Path, progress: Progress | None) -> BackupResult:
    if not source.is_file():
        raise BackupError(f"No existe la base de datos {source}: ¿ya corrió somos init?")
    _new_private_file(target)
    try:
        _copy_sqlite(source, target, progress)
        tables, reports = _check_sqlite(target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return BackupResult(target, target.stat().st_size, tables, reports)


def _restore_sqlite(source: Path, target: Path, *, replace: bool,
                    progress: Progress | None) -> Path | None:
    _check_sqlite(source)
    kept: Path | None = None
    if target.exists():
        if not replace:
            raise BackupError(
                f"Ya existe la base de datos {target}. Detenga somos serve y repita con "
                "--replace: la actual se guardará al lado, no se borra."
            )
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        kept = target.with_name(f"{target.name}.antes-de-restaurar-{stamp}")
        target.rename(kept)
        for suffix in ("-wal", "-shm"):
            sidecar = target.with_name(target.name + suffix)
            if sidecar.exists():
                sidecar.rename(kept.with_name(kept.name + suffix))
    _new_private_file(target)
    try:
        _copy_sqlite(source, target, progress)
    except BaseException:
        target.unlink(missing_ok=True)
        if kept is not None:
            kept.rename(target)
        raise
    return kept


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_environment(url: URL) -> dict[str, str]:
    """libpq variables for `url`: the password never appears on a command line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for variable, value in (("PGHOST", url.host), ("PGPORT", url.port),
                            ("PGUSER", url.username), ("PGPASSWORD", url.password),
                            ("PGDATABASE", url.database)):
        if value is not None:
            env[variable] = str(value)
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"No se encontró {name}. Instale el cliente de PostgreSQL de la misma versión "
            "que el servidor (en Debian: apt install postgresql-client)."
        )
    return found


def _run_pg(args: list[str], url: URL) -> str:
    try:
        # The program is the PATH's pg_dump/pg_restore/psql; arguments are ours, not a user's.
        result = subprocess.run(args, env=_pg_environment(url),  # noqa: S603
                                capture_output=True, text=True,
                                timeout=PG_DUMP_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{Path(args[0]).name} no terminó a tiempo.") from None
    if result.returncode != 0:
        # pg_dump's messages name objects and servers, never row contents.
        detail = (result.stderr.strip().splitlines() or ["sin detalle"])[-1]
        raise BackupError(f"{Path(args[0]).name} falló: {detail}")
    return result.stdout


def _backup_postgresql(url: URL, target: Path) -> BackupResult:
    pg_dump, pg_restore = _pg_tool("pg_dump"), _pg_tool("pg_restore")
    _new_private_file(target)  # pg_dump truncates it and keeps the 0600 mode
    try:
        _run_pg([pg_dump, "--format=custom", "--no-owner", "--no-privileges",
                 f"--file={target}"], url)
        listing = _run_pg([pg_restore, "--list", str(target)], url)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    tables = set(_TABLE_DATA.findall(listing))
    if "reports" not in tables or "alembic_version" not in tables:
        target.unlink(missing_ok=True)
        raise BackupError("La copia de PostgreSQL no contiene las tablas de Somos.")
    return BackupResult(target, target.stat().st_size, len(tables), None)


def _restore_postgresql(url: URL, source: Path) -> None:
    psql, pg_restore = _pg_tool("psql"), _pg_tool("pg_restore")
    count = _run_pg([psql, "--no-psqlrc", "--tuples-only", "--no-align", "--command",
                     "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"], url)
    if count.strip() != "0":
        raise BackupError(
            f"La base de datos {url.database} ya tiene tablas. Restaure en una base nueva "
            f"y vacía (createdb) y apunte SOMOS_DATABASE_URL a ella."
        )
    _run_pg([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error",
             "--single-transaction", f"--dbname={url.database}", str(source)], url)
