"""`somos reports grant` as an operator runs it: Tumaco's focal point left, a new one arrives,
and the recovery key gives them the three open cases. Both databases."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from storage import crypto
from storage.recovery import encode_recovery_key
from tests.support.databases import FreshDatabase
from tests.support.harness import Somos, start_server
from tests.support.places import CACERES, TUMACO
from tests.support.totp import fresh_code

pytestmark = pytest.mark.e2e
DESCRIPTIONS = ("Panfleto en la vereda", "Llamada con amenazas", "Nos siguieron en moto")
PASSWORD = "una contraseña bastante larga"


def report_in_tumaco(somos: Somos, description: str) -> None:
    """A threat report in Tumaco, typed in `somos chat` as a resident would."""
    somos.run("chat", input="\n".join([
        "1", "2", "tumaco", "1", "1", "1", "1", "1", "1", description, "2", "1", "1",
    ]) + "\n")


def sign_in(base_url: str, username: str, password: str, secret: str) -> httpx.Client:
    token = httpx.post(f"{base_url}/api/v1/auth/token", data={
        "username": username, "password": password, "otp": fresh_code(secret)})
    assert token.status_code == 200, token.text
    return httpx.Client(base_url=base_url,
                        headers={"Authorization": f"Bearer {token.json()['access_token']}"})


def test_reports_grant_with_the_recovery_key_opens_the_open_cases_of_the_new_focal_point(
    database: FreshDatabase, tmp_path: Path
) -> None:
    somos = Somos(tmp_path / "data", database.url)
    key_file = tmp_path / "recuperacion.txt"
    somos.run("init", "--recovery-key-file", str(key_file))
    initial = (somos.data_dir / "secretos-iniciales.txt").read_text(encoding="utf-8")
    admin_password = re.search(r"password=(\S+)", initial)
    admin_secret = re.search(r"secret=([A-Z2-7]+)", initial)
    assert admin_password and admin_secret, initial
    somos.add_user("tumaco1", "--role", "focal_point", "--municipality", TUMACO,
                   password=PASSWORD)
    for description in DESCRIPTIONS:
        report_in_tumaco(somos, description)
    somos.run("users", "disable", "tumaco1")  # whoever received them left the team
    secret = somos.add_user("tumaco2", "--role", "focal_point", "--municipality", TUMACO,
                            password=PASSWORD)
    caceres = somos.add_user("caceres", "--role", "focal_point", "--municipality", CACERES,
                   password=PASSWORD)

    other_key = tmp_path / "otra.txt"
    other_key.write_text(encode_recovery_key(crypto.generate_keypair()[0]) + "\n")
    with pytest.raises(AssertionError, match="no abre los reportes de esta instalación"):
        somos.run("reports", "grant", "tumaco2", "--recovery-key-file", str(other_key))
    with pytest.raises(AssertionError, match="No existe el usuario 'nadie'"):
        somos.run("reports", "grant", "nadie", "--recovery-key-file", str(key_file))

    out = somos.run("reports", "grant", "tumaco2", "--recovery-key-file", str(key_file))
    assert out == "tumaco2 ya puede leer 3 casos abiertos de su zona.\n"
    assert (somos.run("reports", "grant", "tumaco2", "--recovery-key-file", str(key_file))
            == "tumaco2 ya podía leer todos los casos abiertos de su zona.\n")
    # Someone of another area gets none of them.
    assert (somos.run("reports", "grant", "caceres", "--recovery-key-file", str(key_file))
            == "caceres ya podía leer todos los casos abiertos de su zona.\n")

    server = start_server(somos, tmp_path / "serve.log")
    try:
        with sign_in(server.base_url, "tumaco2", PASSWORD, secret) as focal:
            items = focal.get("/api/v1/reports").json()["items"]
            assert len(items) == 3
            read = [focal.get(f"/api/v1/reports/{item['id']}").json()["answers"]["description"]
                    for item in items]
            assert sorted(read) == sorted(DESCRIPTIONS)
        with sign_in(server.base_url, "caceres", PASSWORD, caceres) as outsider:
            assert outsider.get("/api/v1/reports").json()["items"] == []
        with sign_in(server.base_url, "admin", admin_password[1], admin_secret[1]) as admin:
            users = {user["username"]: user["id"] for user in admin.get("/api/v1/users").json()}
            entries = admin.get("/api/v1/audit", params={"limit": 200}).json()["items"]
    finally:
        server.stop()
    granted = [entry for entry in entries if entry["action"] == "report.granted"]
    assert sorted(entry["report_id"] for entry in granted) == sorted(item["id"] for item in items)
    assert {entry["actor"] for entry in granted} == {"operator"}
    assert all(entry["detail"] == {"with": users["tumaco2"], "via": "cli"} for entry in granted)
    summaries = [entry["detail"] for entry in entries if entry["action"] == "user.cases_granted"]
    assert sorted(summaries, key=lambda d: (d["user"], -d["granted"])) == sorted([
        {"user": users["tumaco2"], "granted": 3, "not_opened": 0, "via": "cli"},
        {"user": users["tumaco2"], "granted": 0, "not_opened": 0, "via": "cli"},
        {"user": users["caceres"], "granted": 0, "not_opened": 0, "via": "cli"},
    ], key=lambda d: (d["user"], -d["granted"]))
    assert not any(text in str(entries) for text in DESCRIPTIONS)
