"""The `somos` command as an operator and a resident in a terminal would use it."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.databases import FreshDatabase
from tests.support.harness import RECEIPT, SOMOS, Somos, start_server
from tests.support.places import MOMPOX, TUMACO
from tests.support.totp import fresh_code

pytestmark = pytest.mark.e2e


def test_init_twice_changes_nothing_the_second_time(
    database: FreshDatabase, tmp_path: Path
) -> None:
    somos = Somos(tmp_path / "data", database.url)
    first = somos.init()
    assert "password=" in first and re.search(r"^  secret=[A-Z2-7]{32}$", first, re.MULTILINE)
    assert "LLAVE DE RECUPERACIÓN" in first
    keys = (tmp_path / "data" / "somos-keys.json")
    before = keys.read_bytes()
    assert keys.stat().st_mode & 0o777 == 0o600

    second = somos.run("init")
    assert second.strip() == "Somos ya estaba inicializado: nada cambió."
    assert keys.read_bytes() == before


def test_init_keeps_its_files_and_secrets_to_itself(tmp_path: Path) -> None:
    """Whoever can read the data directory or the service's output (a container log, a
    CI log, a shared terminal recording) finds no secret and no readable file."""
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)  # made by hand, readable by everyone
    (data / "notas.txt").write_text("de la instalación", encoding="utf-8")
    (data / "notas.txt").chmod(0o644)
    somos = Somos(data, f"sqlite:///{data / 'somos.db'}")
    out = somos.run("init")
    secrets = data / "secretos-iniciales.txt"
    text = secrets.read_text(encoding="utf-8")
    admin_password = re.search(r"password=(\S+)", text)
    totp = re.search(r"secret=([A-Z2-7]+)", text)
    recovery = re.search(r"sin conexión:\n  (\S+)", text)
    assert admin_password and totp and recovery, text
    for secret in (admin_password[1], totp[1], recovery[1]):
        assert secret not in out
    assert str(secrets) in out

    server = start_server(somos, tmp_path / "serve.log")  # the WAL and its index exist now
    try:
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200
        modes = {p.name: p.stat().st_mode & 0o777 for p in data.rglob("*")}
    finally:
        server.stop()
    assert data.stat().st_mode & 0o777 == 0o700
    assert "somos.db-wal" in modes and "somos-keys.json" in modes
    assert set(modes.values()) == {0o600}, modes
    for secret in (admin_password[1], totp[1], recovery[1]):
        assert secret not in server.log()


def test_users_list_shows_roles_areas_and_state(tmp_path: Path) -> None:
    somos = Somos(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'somos.db'}")
    somos.run("init")
    somos.add_user("narino", "--role", "focal_point", "--department", "52",
                   "--municipality", MOMPOX, password="una contraseña bastante larga")
    somos.run("users", "disable", "narino")
    lines = somos.run("users", "list").splitlines()
    assert lines == [
        "admin\tadmin\t—\tactiva\tcon verificación en dos pasos",
        "narino\tfocal_point\t52, 13468\tdesactivada\tcon verificación en dos pasos",
    ]


def test_users_add_refuses_unknown_municipality(tmp_path: Path) -> None:
    somos = Somos(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'somos.db'}")
    somos.run("init")
    with pytest.raises(AssertionError, match="No existe el municipio"):
        somos.run("users", "add", "x", "--role", "focal_point", "--municipality", "99999",
                  "--password-stdin", input="una contraseña bastante larga\n")


def test_chat_completes_a_threat_report_in_the_terminal(tmp_path: Path) -> None:
    somos = Somos(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'somos.db'}")
    somos.run("init")
    answers = [
        "1",            # menu: report a threat
        "2",            # ¿alguien está en peligro ahora? no
        "tumaco",
        "1",            # Sí, es San Andrés de Tumaco (Nariño)
        "1", "1", "2", "1", "1",   # yo, amenaza de muerte, panfleto, grupo armado, hoy
        "Me amenazaron en la puerta de la casa",
        "2",            # evidencia: omitir
        "1",            # avisos por este chat: no
        "1",            # enviar
    ]
    out = somos.run("chat", input="\n".join(answers) + "\n")
    assert "¿Es San Andrés de Tumaco (Nariño)?" in out
    assert "Descripción: Me amenazaron en la puerta de la casa" in out
    assert RECEIPT.search(out), out


def test_audit_verify_passes_then_names_the_edited_entry(tmp_path: Path) -> None:
    database = tmp_path / "data" / "somos.db"
    somos = Somos(tmp_path / "data", f"sqlite:///{database}")
    somos.run("init")
    somos.run("chat", input="\n".join([
        "1", "2", "tumaco", "1", "1", "1", "1", "1", "1", "Amenaza en la vereda", "2", "1", "1",
    ]) + "\n")
    assert "Cadena de auditoría íntegra" in somos.run("audit", "verify")
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE audit_log SET actor = 'alguien' WHERE seq = 1")
    with pytest.raises(AssertionError, match="rota en la entrada 1"):
        somos.run("audit", "verify")


def test_routes_add_list_remove(tmp_path: Path) -> None:
    somos = Somos(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'somos.db'}")
    somos.run("init")
    somos.add_user("narino", "--role", "focal_point", password="una contraseña bastante larga")
    created = somos.run("routes", "add", "narino", "--department", "52", "--kind", "threat")
    rule_id = created.strip().rsplit(" ", 1)[-1]
    listed = somos.run("routes", "list")
    assert rule_id in listed and "→ narino" in listed and "52" in listed
    with pytest.raises(AssertionError, match="Tipo desconocido"):
        somos.run("routes", "add", "narino", "--kind", "robo")
    assert "Regla borrada" in somos.run("routes", "remove", rule_id)
    assert "No hay reglas" in somos.run("routes", "list")


def test_users_reset_with_the_recovery_key_and_disable(tmp_path: Path) -> None:
    somos = Somos(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'somos.db'}")
    key_file = tmp_path / "recuperacion.txt"
    somos.run("init", "--recovery-key-file", str(key_file))
    assert key_file.stat().st_mode & 0o777 == 0o600
    # A guessable password is refused with the reason, when adding and when restoring.
    with pytest.raises(AssertionError, match="fácil de adivinar: contiene el nombre"):
        somos.add_user("tumaco", "--role", "focal_point", password="Colombia2026!")
    somos.add_user("tumaco", "--role", "focal_point", "--municipality", TUMACO,
                   password="una contraseña bastante larga")
    with pytest.raises(AssertionError, match="fácil de adivinar: contiene el nombre"):
        somos.run("users", "reset", "tumaco", "--recovery-key-file", str(key_file),
                  "--password-stdin", input="contraseña123\n")
    out = somos.run("users", "reset", "tumaco", "--recovery-key-file", str(key_file))
    assert "restaurada" in out and re.search(r"^password=\S{12,}$", out, re.MULTILINE)

    wrong = tmp_path / "otra.txt"
    wrong.write_text(key_file.read_text().replace("A", "B", 5))
    with pytest.raises(AssertionError, match="(no corresponde|No se pudo leer)"):
        somos.run("users", "reset", "tumaco", "--recovery-key-file", str(wrong))
    assert "desactivada" in somos.run("users", "disable", "tumaco")


def test_demo_seed_writes_through_the_real_path_and_refuses_real_data(tmp_path: Path) -> None:
    database = tmp_path / "data" / "somos.db"
    somos = Somos(tmp_path / "data", f"sqlite:///{database}")
    somos.run("init")
    assert "40 reportes sintéticos" in somos.run("demo", "seed", "--reports", "40", "--seed", "3")
    with sqlite3.connect(database) as connection:
        reports = connection.execute("SELECT count(*) FROM reports").fetchone()[0]
        rolled = connection.execute("SELECT sum(count) FROM rollups").fetchone()[0]
        keys = connection.execute("SELECT count(*) FROM report_keys").fetchone()[0]
    assert reports == rolled == 40 and keys >= 80  # recovery + at least one more per report

    real = Somos(tmp_path / "real", f"sqlite:///{tmp_path / 'real' / 'somos.db'}")
    real.run("init")
    real.run("chat", input="\n".join([
        "1", "2", "tumaco", "1", "1", "1", "1", "1", "1", "Amenaza real", "2", "1", "1",
    ]) + "\n")
    with pytest.raises(AssertionError, match="reportes reales"):
        real.run("demo", "seed", "--reports", "5")
    assert "5 reportes sintéticos" in real.run("demo", "seed", "--reports", "5", "--force")


def test_export_aggregates_from_the_cli_is_protected(tmp_path: Path) -> None:
    somos = Somos(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'somos.db'}")
    somos.run("init")
    somos.run("demo", "seed", "--reports", "120", "--seed", "9")
    out = tmp_path / "publico.hxl.csv"
    somos.run("export", "aggregates", "--format", "hxl", "--profile", "public",
              "--out", str(out))
    header, tags, *rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert tags[header.index("municipality_code")] == "#adm2+code"
    counts = [int(r[header.index("count")]) for r in rows if r[header.index("count")]]
    assert not any(1 <= c < 10 for c in counts)
    assert "coinciden" in somos.run("rollups", "rebuild", "--check")
    # Someone changed a cell's noise by hand: the check names it, exits 1; a rebuild mends it.
    with sqlite3.connect(tmp_path / "data" / "somos.db") as connection:
        connection.execute("UPDATE rollups SET perturbed = perturbed + 7 WHERE rowid = "
                           "(SELECT min(rowid) FROM rollups)")
    checked = subprocess.run([SOMOS, "rollups", "rebuild", "--check"], capture_output=True,
                             text=True, env=somos.env(), timeout=120, check=False)
    assert checked.returncode == 1 and "perturbado" in checked.stdout, checked.stdout
    assert "1 celdas corregidas" in somos.run("rollups", "rebuild")
    assert "coinciden" in somos.run("rollups", "rebuild", "--check")
    spanish = somos.run("export", "aggregates", "--lang", "es", "--group-by", "department")
    assert spanish.splitlines()[0] == "código_departamento,departamento,conteo,suprimido"


def test_exports_after_seeding_3000_reports_single_nobody_out(tmp_path: Path) -> None:
    """Aggregates acceptance 1, literally: 3,000 seeded reports, every export of the CLI and
    the API, both profiles: no count in 1..k−1, 5-digit municipality codes, HXL tag row."""
    somos = Somos(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'somos.db'}")
    init = somos.run("init")
    assert "3000 reportes sintéticos" in somos.run("demo", "seed", "--reports", "3000",
                                                  "--seed", "42", timeout=600)
    analyst = somos.add_user("analista", "--role", "analyst", password="contraseña del análisis")
    exports: dict[str, str] = {}
    groupings = {"default": [], "municipality": ["--group-by", "municipality"]}
    for grouping, option in groupings.items():
        for profile in ("analyst", "public"):
            for fmt in ("csv", "json", "hxl"):
                out = tmp_path / f"cli-{grouping}-{profile}.{fmt}"
                somos.run("export", "aggregates", "--format", fmt, "--profile", profile,
                          "--out", str(out), *option)
                exports[f"cli {grouping} {profile} {fmt}"] = out.read_text(encoding="utf-8")
    server = start_server(somos, tmp_path / "serve.log")
    try:
        token = httpx.post(f"{server.base_url}/api/v1/auth/token", data={
            "username": "analista", "password": "contraseña del análisis",
            "otp": fresh_code(analyst)}).json()["access_token"]
        for grouping, group_by in {"default": ["municipality", "category"],
                                   "municipality": ["municipality"]}.items():
            for profile in ("analyst", "public"):
                for fmt in ("csv", "json", "hxl"):
                    response = httpx.get(
                        f"{server.base_url}/api/v1/exports/aggregates",
                        params={"format": fmt, "profile": profile, "group_by": group_by},
                        headers={"Authorization": f"Bearer {token}"}, timeout=60)
                    assert response.status_code == 200, response.text
                    exports[f"api {grouping} {profile} {fmt}"] = response.text
    finally:
        server.stop()
    assert "admin" in init
    for name, text in exports.items():
        k = 10 if " public " in name else 5
        assert len(exports) == 24
        if name.endswith("json"):
            body = json.loads(text)
            assert body["k"] == k
            counts = [cell["count"] for cell in body["cells"] if cell["count"] is not None]
            codes = {cell["row"] for cell in body["cells"]}
            totals = [v for v in body["row_totals"].values() if v is not None]
        else:
            header, *rows = list(csv.reader(text.splitlines()))
            if name.endswith("hxl"):
                tags, *rows = rows
                assert tags[header.index("municipality_code")] == "#adm2+code", name
                assert tags[header.index("department_code")] == "#adm1+code", name
            counts = [int(r[header.index("count")]) for r in rows if r[header.index("count")]]
            codes = {r[header.index("municipality_code")] for r in rows}
            totals = []
        if " default public " in name:
            # Municipality × category at k = 10 over 3,000 reports: every cell is small, and
            # the public profile hides zeros too; the file still lists the cells, all hidden.
            assert codes, name
        else:
            assert counts, name
        if " municipality analyst " in name:  # not vacuous: most municipalities publish
            assert sum(1 for c in counts if c >= k) > 100, name
        assert not any(1 <= c < k for c in counts + totals), name
        assert codes and all(len(code) == 5 and code.isdigit() for code in codes), name


def test_alerts_on_demo_data_without_a_rise_raise_none(tmp_path: Path) -> None:
    """Demo reports are spread evenly over two years: no place rises, so no alert."""
    somos = Somos(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'somos.db'}")
    somos.run("init")
    somos.run("demo", "seed", "--reports", "600", "--seed", "5")
    assert somos.run("alerts", "run").strip() == "Alertas nuevas: 0."
    assert somos.run("alerts", "list").strip() == "No hay alertas."
