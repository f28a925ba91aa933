"""`make test` draws the same property and fuzz examples on every run (issue 14, acceptance 6).

By construction, not by luck: the profile `make test` loads is derandomized (each test's
seed is a digest of the test) with no example database and nothing timed; no test asks
for random draws, a seed of its own, or a health check that depends on the machine's
speed; and Schemathesis, which draws through Hypothesis, draws the same requests twice
in a row. `make fuzz` is the random run (tests/support/fuzzing.py).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode

from api.app import create_app
from api.settings import Settings
from tests.support import fuzzing

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _calls(name: str) -> list[tuple[Path, ast.Call]]:
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called == name:
                    found.append((path.relative_to(ROOT), node))
    return found


@pytest.mark.skipif(fuzzing.FUZZING, reason="`make fuzz` draws at random on purpose")
def test_make_test_runs_under_the_fixed_profile() -> None:
    current = settings.default
    assert current.derandomize and current.database is None and current.deadline is None
    assert HealthCheck.too_slow in current.suppress_health_check


def test_no_test_asks_for_random_draws_or_a_seed_of_its_own() -> None:
    for path, call in _calls("settings"):
        for keyword in call.keywords:
            if keyword.arg == "derandomize":
                # Literally True, or `not RANDOM` where RANDOM follows `make fuzz`.
                value = ast.unparse(keyword.value)
                assert value in ("True", "not RANDOM"), f"{path}: derandomize={value}"
            if keyword.arg == "suppress_health_check":
                # Replacing the profile's list must keep the check timed by the clock out.
                assert "too_slow" in ast.unparse(keyword.value), f"{path}: {ast.unparse(call)}"
    seeded = [path for path in TESTS.rglob("*.py")
              for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
              if isinstance(node, ast.ImportFrom) and node.module == "hypothesis"
              and any(alias.name == "seed" for alias in node.names)]
    assert not seeded, f"Hypothesis' @seed in {seeded}"
    loads = [path for path, _ in _calls("load_profile")]
    assert loads == [Path("tests/support/fuzzing.py")], loads
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "hypothesis-seed" not in pyproject and "hypothesis-seed" not in makefile


def _requests(document: dict[str, Any]) -> list[str]:
    """What Schemathesis draws for every /api/v1 operation, valid and invalid, under the
    current profile, as the bytes it would send."""
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
    drawn: list[str] = []
    for result in schema.include(path_regex="^/api/v1/").get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=3)
            @given(case=operation.as_strategy(mode))
            def draw(case: Case) -> None:
                sent = case.as_transport_kwargs(base_url="http://somos.test")
                # A random name for the case, which the app never reads.
                sent["headers"] = {name: value for name, value in sent["headers"].items()
                                   if name != "X-Schemathesis-TestCaseId"}
                drawn.append(json.dumps(sent, sort_keys=True, default=repr))

            try:
                draw()
            except Unsatisfiable:  # nothing invalid to send: no parameter and no body
                drawn.append(f"{operation.label}: no {mode.value} case")
    return drawn


@pytest.mark.skipif(fuzzing.FUZZING, reason="`make fuzz` draws at random on purpose")
def test_schemathesis_draws_the_same_requests_every_time(tmp_path: Path) -> None:
    document = create_app(Settings(data_dir=tmp_path, fast_kdf=True)).openapi()
    first = _requests(document)
    assert len(first) > 60
    assert _requests(document) == first
