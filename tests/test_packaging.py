"""What a non-editable install needs: every imported distribution declared."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

PACKAGES = ("api", "bot", "flows", "storage")


def imported_top_level(root: Path) -> set[str]:
    names: set[str] = set()
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names
            and name not in PACKAGES and name != "__future__"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_distribution_is_declared(repo_root: Path) -> None:
    project = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {canonical(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0])
                for spec in project["project"]["dependencies"]}
    providers = metadata.packages_distributions()
    missing = {module: providers.get(module, ["?"])
               for module in imported_top_level(repo_root)
               if not declared & {canonical(d) for d in providers.get(module, [])}}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


# A pinned requirement followed by its first hash, as `make lock` writes them.
PINNED = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==\S+ \\\n\s+--hash=sha256:", re.MULTILINE)


def test_the_locks_pin_every_declared_dependency_with_hashes(repo_root: Path) -> None:
    project = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, test = project["dependencies"], project["optional-dependencies"]["test"]
    for lock, specs in (("requirements.lock", runtime), ("requirements-dev.lock", runtime + test)):
        text = (repo_root / lock).read_text(encoding="utf-8")
        pinned = {canonical(found.group(1)) for found in PINNED.finditer(text)}
        wanted = {canonical(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]) for spec in specs}
        assert wanted <= pinned, f"{lock} lacks {sorted(wanted - pinned)}: run `make lock`"
