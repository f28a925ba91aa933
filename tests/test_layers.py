"""The dependency rule of DESIGN.md §3, and encryption only at the edge of storage.

`flows` and `storage` import nothing of the project; `bot` imports `flows` and
`storage`; `api` imports all three; nothing imports upward. Outside `storage/`, no
module imports `storage.crypto` or calls a keyring's `seal`/`open`: every sealed
column is opened beside the code that seals it, where key rotation can see it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from flows.steps import MAX_TEXT_LENGTH
from storage.triage import MAX_TEXT

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("flows", "storage", "bot", "api")
ALLOWED = {
    "flows": {"flows"},
    "storage": {"storage"},
    "bot": {"bot", "flows", "storage"},
    "api": {"api", "bot", "flows", "storage"},
}


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_no_package_imports_upward(package: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(package) for name in _imports(path)
        if name.split(".")[0] in PACKAGES and name.split(".")[0] not in ALLOWED[package]
    ]
    assert wrong == []


def _crypto_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [f"{path.name} imports {name}" for name in _imports(path)
             if name == "storage.crypto" or name.startswith("storage.crypto.")]
    found += [
        f"{path.name}:{node.lineno} calls .{node.func.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("seal", "open")
        and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "keyring"
    ]
    return found


@pytest.mark.parametrize("package", ("flows", "bot", "api"))
def test_only_storage_touches_the_crypto(package: str) -> None:
    assert [use for path in _modules(package) for use in _crypto_uses(path)] == []


def test_the_checks_would_catch_a_violation(tmp_path: Path) -> None:
    """The checks above read real imports and calls (not a grep that cannot fail)."""
    sample = tmp_path / "sample.py"
    sample.write_text("import api.app\nfrom storage import crypto\n"
                      "from storage.crypto import DecryptionError\n"
                      "store.keyring.seal(b'', b'')\nself.store.keyring.open(b'', b'')\n",
                      encoding="utf-8")
    assert "api.app" in _imports(sample)
    assert set(_crypto_uses(sample)) == {
        "sample.py imports storage.crypto", "sample.py imports storage.crypto.DecryptionError",
        "sample.py:4 calls .seal", "sample.py:5 calls .open",
    }


def test_one_text_limit_on_both_sides() -> None:
    """What a reporter may write in one message and what the team may store as a note or
    message are the same limit (flows and storage may not import each other)."""
    assert MAX_TEXT_LENGTH == MAX_TEXT
