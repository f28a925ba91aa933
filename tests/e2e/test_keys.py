"""`somos keys rotate` and `somos keys retire` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.support.harness import Somos, start_server
from tests.support.totp import fresh_code

pytestmark = pytest.mark.e2e
PASSWORD = "contraseña del punto focal de Nariño"


def server_keys(somos: Somos) -> tuple[str, set[str]]:
    data = json.loads((somos.data_dir / "somos-keys.json").read_text())
    return data["current_server_key_id"], set(data["server_keys"])


def test_rotating_the_server_key_keeps_every_account_working(tmp_path: Path) -> None:
    somos = Somos(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'somos.db'}")
    somos.run("init")
    secret = somos.add_user("narino", "--role", "focal_point", "--department", "52",
                            password=PASSWORD)
    old, _ = server_keys(somos)

    out = somos.run("keys", "rotate")

    new, keys = server_keys(somos)
    assert new != old and keys == {old, new}
    assert f"Clave nueva del servidor: {new}. 2 elementos sellados de nuevo." in out
    assert (somos.data_dir / "somos-keys.json").stat().st_mode & 0o777 == 0o600

    assert "Claves retiradas: " + old in somos.run("keys", "retire")
    assert server_keys(somos) == (new, {new})
    assert "No había claves viejas que retirar." in somos.run("keys", "retire")

    # With the old key gone from the file, the TOTP secrets still open: people sign in.
    server = start_server(somos, tmp_path / "serve.log")
    try:
        token = httpx.post(f"{server.base_url}/api/v1/auth/token", data={
            "username": "narino", "password": PASSWORD, "otp": fresh_code(secret)})
        assert token.status_code == 200, token.text
    finally:
        server.stop()


def test_rotation_refuses_keys_from_the_environment(tmp_path: Path) -> None:
    somos = Somos(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'somos.db'}")
    somos.run("init")
    keys = (somos.data_dir / "somos-keys.json").read_text()
    from_env = Somos(somos.data_dir, somos.database_url, {"SOMOS_KEYS": keys})
    with pytest.raises(AssertionError, match="SOMOS_KEYS"):
        from_env.run("keys", "rotate")
