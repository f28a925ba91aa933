"""Runs the real `somos` command as a subprocess, configured only through its environment.

`start_server` runs `somos serve` on a port the system picks as it binds (so tests in
parallel never meet); `deploy` adds the Bot API double and a Nariño focal point: one
deployment that a module's end-to-end tests share, each test as its own Telegram user.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.botapi import BotApiDouble, FakeUser
from tests.support.places import NARINO, TUMACO
from tests.support.totp import fresh_code
from tests.support.web_client import csrf_of

SOMOS = str(Path(sys.executable).parent / "somos")
RECEIPT = re.compile(r"\b(\d{4} \d{4} \d{4} \d{4})\b")
# Uvicorn names the port it bound, also when asked for port 0.
LISTENING = re.compile(rb"Uvicorn running on (http://127\.0\.0\.1:\d+)")


@dataclass
class Somos:
    """One installation: its data directory, database and environment."""

    data_dir: Path
    database_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    # The installation's `somos`: by default this environment's (the source tree's).
    command: str = SOMOS

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("SOMOS_") and k != "TELEGRAM_BOT_TOKEN"}
        env.update(
            SOMOS_DATA_DIR=str(self.data_dir),
            SOMOS_DATABASE_URL=self.database_url,
            SOMOS_FAST_KDF="1",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def run(self, *args: str, input: str | None = None, timeout: float = 120) -> str:
        result = subprocess.run(
            [self.command, *args], input=input, capture_output=True, text=True, env=self.env(),
            timeout=timeout, cwd=self.data_dir.parent, check=False,
        )
        assert result.returncode == 0, f"somos {' '.join(args)} failed:\n{result.stderr}"
        return result.stdout

    def init(self) -> str:
        """`somos init` with stdout piped, as in a container: the secrets it made go to a
        file of the data directory, and this returns that file's text."""
        out = self.run("init")
        assert "secretos-iniciales.txt" in out and "password=" not in out, out
        return (self.data_dir / "secretos-iniciales.txt").read_text(encoding="utf-8")

    def add_user(self, username: str, *args: str, password: str) -> str:
        """Creates a staff user and returns the TOTP secret printed by the CLI."""
        out = self.run("users", "add", username, *args, "--password-stdin",
                       input=password + "\n")
        match = re.search(r"^secret=([A-Z2-7]+)$", out, re.MULTILINE)
        assert match, out
        assert "otpauth://totp/" in out
        return match.group(1)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(somos: Somos, log_path: Path) -> Server:
    """`somos serve` on a port the system gives it as it binds (read back from its log), so
    servers of tests running in parallel never race for a port chosen in advance."""
    log = log_path.open("wb")
    process = subprocess.Popen(
        [somos.command, "serve", "--host", "127.0.0.1", "--port", "0"],
        stdout=log, stderr=subprocess.STDOUT, env=somos.env(), cwd=somos.data_dir.parent,
    )
    log.close()
    server = Server(process, "", log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"somos serve exited early:\n{server.log()}")
        if not server.base_url and (bound := LISTENING.search(log_path.read_bytes())):
            server.base_url = bound.group(1).decode()
        try:
            if server.base_url and httpx.get(server.base_url + "/healthz",
                                             timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.stop()
    raise AssertionError(f"somos serve did not answer /healthz:\n{server.log()}")


def at_place_question(user: FakeUser, danger: str = "No") -> None:
    """From /start to a threat report's «¿En qué municipio pasó?», answering «¿Alguien
    está en peligro ahora?» with `danger`."""
    user.send_command("/start")
    user.wait_for_bot_message("¿Qué quiere hacer?")
    user.press("🚨 Reportar una amenaza o situación de riesgo")
    user.wait_for_bot_message("¿Alguien está en peligro ahora?")
    user.press(danger)
    user.wait_for_bot_message("¿En qué municipio pasó?")


THREAT_QUESTIONS = ("¿Quién está en riesgo?", "¿Qué pasó?", "¿Cómo llegó la amenaza?",
                    "¿Quién está detrás", "¿Cuándo pasó?")
LEADER_THREATENED = ("Un líder, lideresa, defensor o defensora", "Amenaza de muerte",
                     "Panfleto o escrito", "Un grupo armado", "Esta semana")


def open_threat_report(user: FakeUser, place: str = "Tumaco",
                       confirm: str = "¿Es San Andrés de Tumaco (Nariño)?", *,
                       answers: Sequence[str] = LEADER_THREATENED, danger: str = "No") -> None:
    """Walks a threat report up to «Cuente con sus palabras», as a person would: each of
    `answers` (one per THREAT_QUESTIONS) presses the button whose label starts with it."""
    at_place_question(user, danger)
    user.send_text(place)
    user.wait_for_bot_message(confirm)
    user.press("Sí")
    for question, answer in zip(THREAT_QUESTIONS, answers, strict=True):
        buttons = user.wait_for_bot_message(question).buttons()
        user.press(next(label for label in buttons if label.startswith(answer)))
    user.wait_for_bot_message("Cuente con sus palabras")


def report_threat(user: FakeUser, description: str, place: str = "Tumaco",
                  confirm: str = "¿Es San Andrés de Tumaco (Nariño)?") -> str:
    """Walks the threat report like a person would and returns the receipt code."""
    open_threat_report(user, place, confirm)
    user.send_text(description)
    return finish_report(user, lambda summary: (
        description in summary and confirm.strip("¿?").removeprefix("Es ") in summary))


def finish_report(user: FakeUser, summary_shows: Callable[[str], bool] = lambda _: True,
                  *, news: bool = False) -> str:
    """From the evidence question to the receipt (no files; news pings if `news`); checks
    the summary with `summary_shows` and returns the 16 digits."""
    user.wait_for_bot_message("¿Tiene fotos, documentos o audios?")
    user.press("Omitir")
    user.wait_for_bot_message("¿Podemos avisarle")
    user.press("Sí" if news else "No")
    summary = user.wait_for_bot_message("Revise su reporte")
    assert summary_shows(summary.text), summary.text
    user.press("✅ Enviar reporte")
    receipt = user.wait_for_bot_message("Su código de seguimiento es", timeout=30)
    match = RECEIPT.search(receipt.text)
    assert match, receipt.text
    return match.group(1).replace(" ", "")


def open_case(user: FakeUser, code: str, expect: str = "¿Qué quiere hacer con su caso?") -> str:
    """From /start to what the receipt code opens; returns the text of the message that
    matches `expect`."""
    user.send_command("/start")
    user.wait_for_bot_message("¿Qué quiere hacer?")
    user.press("🔎 Consultar mi reporte con el código")
    user.wait_for_bot_message("Escriba su código de seguimiento")
    user.send_text(code)
    return user.wait_for_bot_message(expect, timeout=20).text


def report_described(api: httpx.Client, description: str, **filters: str) -> str:
    """The id of the report in the focal point's queue (narrowed by `filters`) whose
    description is `description`."""
    items = api.get("/api/v1/reports", params=filters).json()["items"]
    details = [api.get(f"/api/v1/reports/{item['id']}").json() for item in items]
    return next(d["id"] for d in details if d["answers"].get("description") == description)


FOCAL_PASSWORD = "contraseña del punto focal de Nariño"
# SOMOS_ORGANIZATION_NAME of every deployment: named after each report, never in a ping.
ORGANIZATION = "Red Comunitaria del Pacífico"
_user_ids = itertools.count(7_100_000_001)


@dataclass
class Deployment:
    """`somos serve` (SQLite) polling the Bot API double; "narino" is its focal point."""

    double: BotApiDouble
    server: Server
    somos: Somos
    totp_secret: str
    token: str = ""

    @property
    def database(self) -> Path:
        return self.somos.data_dir / "somos.db"

    def user(self, **profile: str) -> FakeUser:
        return self.double.user(user_id=next(_user_ids), **profile)  # type: ignore[arg-type]

    def api(self) -> httpx.Client:
        """The Nariño focal point's API, signed in once per deployment (a session, as a
        person keeps one, instead of a new code for every look)."""
        if not self.token:
            self.token = httpx.post(f"{self.server.base_url}/api/v1/auth/token", data={
                "username": "narino", "password": FOCAL_PASSWORD,
                "otp": fresh_code(self.totp_secret),
            }).json()["access_token"]
        return httpx.Client(base_url=self.server.base_url,
                            headers={"Authorization": f"Bearer {self.token}"})

    @contextmanager
    def web(self) -> Iterator[httpx.Client]:
        """The Nariño focal point in a browser without a browser: signed in on `/entrar` with
        a fresh code, the session in the client's cookies."""
        with httpx.Client(base_url=self.server.base_url) as client:
            form = client.get("/entrar")
            signed_in = client.post("/entrar", data={
                "csrf": csrf_of(form.text), "username": "narino", "password": FOCAL_PASSWORD,
                "otp": fresh_code(self.totp_secret),
            })
            assert signed_in.status_code == 303, signed_in.text
            yield client

    def count(self, table: str) -> int:
        with sqlite3.connect(self.database) as connection:
            return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@contextmanager
def deploy(root: Path) -> Iterator[Deployment]:
    """A deployment in `root`, with Tumaco's local line; stopped on leaving."""
    with BotApiDouble() as double:
        somos = Somos(root / "data", f"sqlite:///{root / 'data' / 'somos.db'}", {
            "TELEGRAM_BOT_TOKEN": double.token, "SOMOS_TELEGRAM_API_URL": double.base_url,
            "SOMOS_ORGANIZATION_NAME": ORGANIZATION,
        })
        somos.run("init")
        secret = somos.add_user("narino", "--role", "focal_point", "--department", NARINO,
                                password=FOCAL_PASSWORD)
        somos.run("lines", "add", TUMACO, "Personería de Tumaco", "602 727 0000")
        server = start_server(somos, root / "serve.log")
        try:
            yield Deployment(double, server, somos, secret)
        finally:
            server.stop()
