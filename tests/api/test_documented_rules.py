"""What the OpenAPI document states is what the server does (issue 14, item 7 and item 6).

Patterns. The document's `pattern`s are JSON Schema's, read by ECMA-262 rules; FastAPI
enforces the same strings with pydantic's Rust engine, and `create_user` with Python's
`re`. The three disagree about `\\s`, `\\d` and `\\w` (Unicode or ASCII, which spaces), so
a client, or Schemathesis, could send a value the document allows and meet a 422. Every
pattern of the document must therefore avoid those classes and, on a sample of tricky
strings (every kind of space, controls, invisible marks, other scripts' digits, a trailing
newline), be answered alike by an ECMA reading, by pydantic and, for usernames, by storage.

Statuses. /healthz, /readyz and /metrics answer, each in the situations that make it
answer so, only statuses their operation documents, with the documented body; and
every status they document is one of those.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from pydantic import Field, TypeAdapter, ValidationError
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import Settings
from storage.store import Store, open_store
from storage.users import USERNAME, USERNAME_PATTERN
from tests.support.api import client_for

# Where the engines part ways: each Unicode space (Python's `\s` also takes \x1c-\x1f, the
# Rust engine's \x85, ECMA's \ufeff), controls, zero-width and bidi marks, a trailing
# newline (Python's `$` matches before it), digits of other scripts (`\d`), letters and
# symbols everyone allows. No lone surrogate: JSON Schema strings are Unicode text, and
# pydantic refuses them before any pattern (api/params.py).
SPACES = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u180e\u2000\u2001\u2002\u2003\u2004"
          "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")
ODD = "\x00\x01\x7f\x9f\u200b\u200c\u200d\u200e\u202e\u2060\u2066"
WORDS = ("ana", "maría", "ñandú", "J.Pérez-2", "ana@personeria.gov.co", "Ωmega", "用户",
         "😀x", "a" * 64, "a" * 65, "a", "", "0123-45", "2026-03", "2026-13", "52", "52835",
         "00000000-0000-4000-8000-000000000000", "٢٠٢٦-03", "５２", "2026-03\n", "52835\n",
         "00000000-0000-4000-8000-000000000000\n")
CLASS_SHORTHAND = re.compile(r"(?<!\\)(?:\\\\)*\\[sSdDwWbB]")


def samples() -> Iterator[str]:
    yield from WORDS
    for char in SPACES + ODD:
        yield from (f"ana{char}", f"{char}ana", f"an{char}a", char * 2, f"2026-0{char}3")


def patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from patterns(item)


def ecma_allows(pattern: str, value: str) -> bool:
    """`pattern` as JSON Schema reads it: ECMA-262, unanchored, `$` only at the very end.

    Python's `re` reads our patterns as ECMA does once `\\s \\d \\w \\b` are out (checked
    below) but for `$`, which Python also matches before a final newline."""
    ecma = re.sub(r"(?<!\\)\$", r"\\Z", pattern)
    return re.search(ecma, value) is not None


def pydantic_allows(pattern: str, value: str) -> bool:
    try:
        TypeAdapter(Annotated[str, Field(pattern=pattern)]).validate_python(value)
    except ValidationError:
        return False
    return True


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("openapi"), fast_kdf=True)
    return create_app(settings).openapi()


def test_the_documents_patterns_use_no_engine_dependent_class(document: dict[str, Any]) -> None:
    found = set(patterns(document))
    assert USERNAME_PATTERN in found  # the username's rule is documented, and is storage's
    assert not [p for p in found if CLASS_SHORTHAND.search(p)]


def test_every_documented_pattern_allows_what_the_server_allows(
    document: dict[str, Any],
) -> None:
    disagreements = [
        (pattern, value) for pattern in sorted(set(patterns(document))) for value in samples()
        if ecma_allows(pattern, value) != pydantic_allows(pattern, value)
    ]
    assert not disagreements


def test_storage_refuses_exactly_the_usernames_the_document_refuses() -> None:
    for value in samples():
        assert (USERNAME.fullmatch(value) is not None) == ecma_allows(USERNAME_PATTERN, value), (
            repr(value))
    for name in ("ana", "maría", "ana@personeria.gov.co", "用户"):
        assert USERNAME.fullmatch(name)
    for name in ("ana maría", "ana\u00a0maría", "ana\u2007", "ana\x1c", "\ufeffana", "an\u200ba",
                 "ana\u202e", "ana\n", "a"):
        assert not USERNAME.fullmatch(name), repr(name)


# ------------------------------------------------------------------ health and metrics


def check(document: dict[str, Any], label: str, response: httpx.Response) -> None:
    """The answer is one the operation documents, with the documented type and body."""
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label
    operation.Case().validate_response(response, checks=[
        status_code_conformance, content_type_conformance, response_headers_conformance,
        response_schema_conformance,
    ])


def documented(document: dict[str, Any], path: str) -> set[int]:
    return {int(status) for status in document["paths"][path]["get"]["responses"]}


def unreachable_store(backend: str, tmp_path: Path) -> Store:
    """A store whose database is gone: a SQLite file in a folder that does not exist, or a
    PostgreSQL server on a port where nothing listens."""
    url = (f"sqlite:///{tmp_path / 'gone' / 'somos.db'}" if backend == "sqlite"
           else "postgresql://postgres@127.0.0.1:1/somos")
    return open_store(database_url=url, key_file=tmp_path / "keys.json", fast_kdf=True)


async def test_health_answers_only_documented_statuses(
    backend: str, store: Store, tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, fast_kdf=True)
    seen: dict[str, set[int]] = {"/healthz": set(), "/readyz": set(), "/metrics": set()}
    apps: list[tuple[FastAPI, tuple[str, int]]] = [
        (create_app(settings, store=store), ("127.0.0.1", 123)),       # all is well
        (create_app(settings, store=store), ("203.0.113.9", 123)),     # metrics from afar
        (create_app(settings, store=unreachable_store(backend, tmp_path)), ("127.0.0.1", 123)),
    ]
    async with client_for(apps[0][0]) as client:
        document = (await client.get("/openapi.json")).json()
    for app, peer in apps:
        async with client_for(app, peer=peer) as client:
            for path, statuses in seen.items():
                response = await client.get(path)
                check(document, f"GET {path}", response)
                statuses.add(response.status_code)
    assert seen == {"/healthz": {200}, "/readyz": {200, 503}, "/metrics": {200, 403}}
    for path, statuses in seen.items():
        assert documented(document, path) == statuses, path
