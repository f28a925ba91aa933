"""docs/operacion.md shows only `somos` commands that exist, with options they take.

Every `somos …` the guide runs in the container (`docker compose exec somos somos …`,
`docker compose run … somos …`) is parsed by the real command line, as the shell would
split it: an unknown command, an unknown option or a missing argument fails here.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from api.cli import app

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "operacion.md"
# `exec [-T] somos somos ARGS` or `run … --no-deps somos ARGS`, up to a redirection or the end.
INVOCATION = re.compile(r"(?:exec (?:-T )?somos somos|--no-deps somos) ([^<\\\n]+)")


def invocations() -> list[list[str]]:
    text = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:sh|text)\n(.*?)```", text, flags=re.DOTALL)
    # A command broken over lines with a backslash is one line.
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    lines += re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.DOTALL))
    found = [shlex.split(match) for line in lines for match in INVOCATION.findall(line)]
    return [args for args in found if not args[0].isupper()]  # `somos ORDEN`: a placeholder


def parses(args: list[str]) -> None:
    """Raises TyperException (a usage error) or AssertionError unless `somos ARGS` parses."""
    command: Any = typer.main.get_command(app)
    path = ["somos"]
    while isinstance(command, TyperGroup) and args and not args[0].startswith("-"):
        sub = command.get_command(command.context_class(command), args[0])
        assert sub is not None, f"no command `{' '.join([*path, args[0]])}`"
        command, path, args = sub, [*path, args[0]], args[1:]
    assert not isinstance(command, TyperGroup), f"`{' '.join(path)}` needs a subcommand"
    # Parse as the real run would (types, required arguments, known options), not invoke.
    command.make_context(" ".join(path), list(args))


def test_every_command_in_the_operations_guide_exists_as_shown() -> None:
    shown = invocations()
    # The guide covers the whole life of a deployment.
    assert {" ".join(args[:2]) for args in shown if args[0] in ("users", "routes", "lines",
                                                                  "keys", "audit")} == {
        "users add", "users list", "users disable", "users reset", "routes add", "routes list",
        "routes remove", "lines add", "lines list", "keys rotate", "keys retire", "audit verify"}
    assert {"backup", "purge", "restore"} <= {args[0] for args in shown}
    for args in shown:
        try:
            parses(args)
        except TyperException as error:
            raise AssertionError(f"somos {shlex.join(args)}: {error}") from None


def test_a_wrong_command_or_option_would_be_caught() -> None:
    for wrong in (["users", "add", "x", "--rol", "admin"], ["keys", "rotat"],
                  ["users", "reset", "x"], ["users"]):
        with pytest.raises((TyperException, AssertionError)):
            parses(wrong)


def test_the_guide_is_linked_from_the_readme() -> None:
    readme = (GUIDE.parent.parent / "README.md").read_text(encoding="utf-8")
    assert "(docs/operacion.md)" in readme
