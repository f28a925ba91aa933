"""`somos backup` and `somos restore` as an operator uses them after losing a server."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.support.databases import FreshDatabase, create_database, drop_database
from tests.support.harness import Somos, start_server
from tests.support.totp import fresh_code

pytestmark = pytest.mark.e2e
PASSWORD = "contraseña del punto focal de Nariño"


def export(somos: Somos) -> str:
    return somos.run("export", "aggregates", "--format", "csv")


async def test_a_backup_brings_back_a_lost_installation(
    database: FreshDatabase, tmp_path: Path
) -> None:
    original = Somos(tmp_path / "original", database.url)
    original.run("init")
    secret = original.add_user("narino", "--role", "focal_point", "--department", "52",
                               password=PASSWORD)
    original.run("demo", "seed", "--reports", "60", "--seed", "11")
    copy = tmp_path / "copias" / ("somos.db" if database.backend == "sqlite" else "somos.dump")

    said = original.run("backup", "--out", str(copy))

    assert copy.stat().st_mode & 0o777 == 0o600
    assert f"Copia guardada en {copy}" in said and "archivo de claves" in said
    if database.backend == "sqlite":
        assert "60 reportes" in said
    with pytest.raises(AssertionError, match="Ya existe"):
        original.run("backup", "--out", str(copy))  # never overwrites an earlier copy

    # The server is gone. A new machine gets the copy and, kept apart, the key file.
    if database.backend == "sqlite":
        target = FreshDatabase("sqlite", f"sqlite:///{tmp_path / 'nueva' / 'somos.db'}")
    else:
        target = await create_database("postgresql", tmp_path)
    try:
        restored = Somos(tmp_path / "nueva", target.url)
        out = restored.run("restore", str(copy))
        assert "Copia restaurada" in out
        restored.data_dir.mkdir(exist_ok=True)
        shutil.copy2(original.data_dir / "somos-keys.json", restored.data_dir / "somos-keys.json")
        assert "nada cambió" in restored.run("init")
        assert "Cadena de auditoría íntegra" in restored.run("audit", "verify")
        assert "coinciden" in restored.run("rollups", "rebuild", "--check")
        assert export(restored) == export(original)

        # The focal point signs in with the same password and app, and reads a report.
        server = start_server(restored, tmp_path / "serve.log")
        try:
            token = httpx.post(f"{server.base_url}/api/v1/auth/token", data={
                "username": "narino", "password": PASSWORD, "otp": fresh_code(secret),
            })
            assert token.status_code == 200, token.text
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            queue = httpx.get(f"{server.base_url}/api/v1/reports", headers=headers).json()
            assert queue["items"], "the Nariño reports came back"
            detail = httpx.get(f"{server.base_url}/api/v1/reports/{queue['items'][0]['id']}",
                               headers=headers)
            assert detail.status_code == 200 and detail.json()["answers"]
        finally:
            server.stop()

        if database.backend == "postgresql":
            with pytest.raises(AssertionError, match="ya tiene tablas"):
                restored.run("restore", str(copy))
    finally:
        await drop_database(target)


def test_restore_keeps_the_database_it_replaces(tmp_path: Path) -> None:
    somos = Somos(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'somos.db'}")
    somos.run("init")
    somos.run("demo", "seed", "--reports", "12", "--seed", "5")
    copy = tmp_path / "copia.db"
    somos.run("backup", "--out", str(copy))
    somos.run("demo", "seed", "--reports", "8", "--seed", "6", "--force")

    with pytest.raises(AssertionError, match="--replace"):
        somos.run("restore", str(copy))
    out = somos.run("restore", str(copy), "--replace")

    kept = re.search(r"La base anterior quedó en (\S+)\.", out)
    assert kept, out
    with sqlite3.connect(kept.group(1)) as before, \
            sqlite3.connect(tmp_path / "data" / "somos.db") as now:
        assert before.execute("SELECT count(*) FROM reports").fetchone()[0] == 20
        assert now.execute("SELECT count(*) FROM reports").fetchone()[0] == 12
    with pytest.raises(AssertionError, match="no es una base de datos SQLite de Somos"):
        (tmp_path / "basura.db").write_bytes(b"esto no es una base de datos" * 100)
        somos.run("restore", str(tmp_path / "basura.db"), "--replace")


def test_backup_default_name_lands_in_the_data_directory(tmp_path: Path) -> None:
    somos = Somos(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'somos.db'}")
    somos.run("init")
    out = somos.run("backup")
    found = re.search(r"Copia guardada en (\S+somos-\d{8}-\d{6}\.db) ", out)
    assert found, out
    assert Path(found.group(1)).parent == tmp_path / "data" / "copias"
