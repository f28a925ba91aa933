"""The wheel, installed apart, is the same Somos as the source tree (issue 14, acceptance 1).

An operator installs what `python -m build` makes, not this directory. The test builds the
sdist and, from it, the wheel, out of a copy of the source tree with no compiled catalog in
it (as a fresh clone has none: .gitignore), installs the wheel alone into a new virtual
environment, and runs both installations on one data directory: the same exports, and the
same pages in Spanish and in English, byte for byte but for the one-time tokens.

The new environment borrows the locked dependencies of this one through a `.pth` line
naming its site-packages. Python adds such a directory to the path without reading the
`.pth` files in it, so the source tree's editable-install hook there never runs: `api`,
`bot`, `locales`… can only come from the wheel, and the test checks that they do.
Build isolation is off (the locked setuptools and Babel build it): no network needed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.harness import Somos, start_server
from tests.support.totp import fresh_code

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "bot", "flows", "storage", "locales")
# Never part of a checkout (.gitignore), at the top of the tree or anywhere.
NOT_IN_A_CHECKOUT = {".git", ".venv", "build", "dist", "data", ".pytest_cache", ".mypy_cache",
                     ".ruff_cache", ".hypothesis"}
PASSWORD = "contraseña larga de quien analiza los datos"
ONE_TIME = re.compile(r'(name="csrf" value=")[^"]+(")')
EXPORTS = {
    "csv-es": ("--format", "csv", "--lang", "es", "--group-by", "department,month"),
    "csv-en": ("--format", "csv", "--lang", "en", "--group-by", "department,month"),
    "hxl-es": ("--format", "hxl", "--lang", "es", "--group-by", "municipality,quarter"),
    "hxl-en": ("--format", "hxl", "--lang", "en", "--group-by", "municipality,quarter",
               "--profile", "public"),
    "json": ("--format", "json", "--group-by", "kind,year"),
}
PAGES = ("/entrar", "/panel", "/panel?desde=2025-01", "/panel/mapa.svg",
         "/panel/exportar?formato=csv", "/panel/exportar?formato=hxl", "/docs",
         "/static/somos.css", "/openapi.json")


def _ignore_outside_checkout(root: Path) -> Callable[[str, list[str]], set[str]]:
    def ignore(directory: str, names: list[str]) -> set[str]:
        at_root = Path(directory) == root
        return {name for name in names
                if (at_root and name in NOT_IN_A_CHECKOUT) or name == "__pycache__"
                or name.endswith((".mo", ".pyc", ".egg-info"))}
    return ignore


@dataclass
class Installed(Somos):
    """An installation from the wheel: nothing of the source tree on its path."""

    def env(self) -> dict[str, str]:
        env = super().env()
        env.pop("PYTHONPATH", None)
        return env


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment holding the wheel built from a clean copy of the tree."""
    root = tmp_path_factory.mktemp("wheel")
    source, dist, venv = root / "source", root / "dist", root / "venv"
    shutil.copytree(REPO, source, ignore=_ignore_outside_checkout(REPO))
    assert not list(source.rglob("*.mo"))
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir",
                            str(dist), str(source)], capture_output=True, text=True, cwd=root,
                           check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("somos-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for expected in ("locales/es/LC_MESSAGES/messages.mo", "locales/en/LC_MESSAGES/messages.mo",
                     "api/templates/login.html", "api/static/swagger-ui-bundle.js",
                     "flows/data/divipola.csv", "storage/migrations/script.py.mako",
                     "api/data/municipios-mgn2018.geojson"):
        assert expected in names, f"the wheel lacks {expected}"
    assert not [name for name in names if name.endswith(".po")]

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--quiet", "--no-deps", "--no-index", str(wheel)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv),
                                                    "platbase": str(venv)}))
    (site / "somos-test-dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8")

    where = subprocess.run(
        [str(python), "-c", "import sys, importlib; print('\\n'.join("
         f"importlib.import_module(name).__file__ for name in {PACKAGES!r}))"],
        check=True, capture_output=True, text=True, cwd=root,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout.split()
    assert len(where) == len(PACKAGES)
    assert all(Path(path).is_relative_to(site) for path in where), where
    return venv


@dataclass
class Both:
    source: Somos
    wheel: Somos
    secret: str  # the analyst's second factor


@pytest.fixture(scope="module")
def installations(wheel_env: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Both]:
    """The source tree's `somos` and the wheel's, on one data directory with data in it."""
    root = tmp_path_factory.mktemp("both")
    data = root / "data"
    environment = {"SOMOS_DEPARTMENTS": "70,13"}
    source = Somos(data, f"sqlite:///{data / 'somos.db'}", environment)
    wheel = Installed(data, source.database_url, environment,
                      command=str(wheel_env / "bin" / "somos"))
    # The wheel makes the schema (its migrations) and the data (its DIVIPOLA lists); the
    # source tree then finds nothing to change.
    wheel.init()
    secret = wheel.add_user("analista", "--role", "analyst", password=PASSWORD)
    wheel.run("demo", "seed", "--reports", "300", "--seed", "7")
    assert source.run("init").strip() == "Somos ya estaba inicializado: nada cambió."
    yield Both(source, wheel, secret)


def _pages(somos: Somos, secret: str, log: Path) -> dict[str, str]:
    server = start_server(somos, log)
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            login = client.get("/entrar")
            csrf = ONE_TIME.search(login.text)
            assert csrf, login.text
            signed_in = client.post("/entrar", data={
                "csrf": login.text[csrf.end(1):csrf.start(2)], "username": "analista",
                "password": PASSWORD, "otp": fresh_code(secret)})
            assert signed_in.status_code == 303, signed_in.text
            seen = {}
            for lang in ("es", "en"):
                client.cookies.set("somos_idioma", lang)
                for path in PAGES:
                    response = client.get(path)
                    assert response.status_code == 200, (path, response.text)
                    seen[f"{lang} {path}"] = ONE_TIME.sub(r"\1…\2", response.text)
            return seen
    finally:
        server.stop()


def test_the_wheel_exports_exactly_what_the_source_tree_exports(installations: Both) -> None:
    source, wheel = installations.source, installations.wheel
    for name, args in EXPORTS.items():
        expected = source.run("export", "aggregates", *args)
        assert wheel.run("export", "aggregates", *args) == expected, name
    spanish, english = (wheel.run("export", "aggregates", *EXPORTS[name]).splitlines()[0]
                        for name in ("csv-es", "csv-en"))
    assert "departamento" in spanish and "department" in english, (spanish, english)


def test_the_wheel_serves_the_source_trees_pages_in_spanish_and_english(
    installations: Both, tmp_path: Path,
) -> None:
    both = installations
    from_source = _pages(both.source, both.secret, tmp_path / "source.log")
    from_wheel = _pages(both.wheel, both.secret, tmp_path / "wheel.log")
    assert from_wheel.keys() == from_source.keys()
    for key, page in from_source.items():
        assert from_wheel[key] == page, key
    assert "Contraseña" in from_wheel["es /entrar"] and "Password" in from_wheel["en /entrar"]
    assert from_wheel["en /panel"] != from_wheel["es /panel"]
