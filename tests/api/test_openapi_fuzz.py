"""Schemathesis over the OpenAPI document: every /api/v1 operation, fuzzed as each staff role.

Schemathesis draws requests from the document the app publishes, valid ones and invalid ones
that must be refused with a 4xx, and checks every answer against that same document: never a
5xx, only documented status codes and content types, bodies that match their schema. On top,
every error is a problem+json with our `type` codes, and no API answer may be cached.
Outside: /healthz, /readyz and /metrics (no parameters; tests/api/test_documented_rules.py
makes each of their documented statuses happen), and the Telegram webhook,
which is not in the document at all (its body is Telegram's, and it answers 404 unless the
bot runs in webhook mode).

The requests do not go through `case.call()`: Schemathesis' ASGI client runs the app on an
event loop of its own and starts its lifespan (the bot, the background loops, `gc.freeze()`),
while the store of this test lives on the test's loop (an asyncpg connection belongs to one
loop). So Hypothesis runs in a worker thread and hands each request to this loop, where httpx
sends it to the app like the other API tests do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
import requests
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, BaseSchema, Case, CheckContext, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import select

from api.problems import PROBLEM_BASE
from api.settings import Settings
from storage.attachments import File
from storage.models import Attachment
from storage.reports import NewReport
from storage.routing import create_rule
from storage.store import Store
from tests.support.api import API_URL, login
from tests.support.fuzzing import examples
from tests.support.places import CACERES, CARTAGENA, TUMACO
from tests.support.reports import submit, threat
from tests.support.staff import add_staff

pytestmark = pytest.mark.fuzz  # `make fuzz` draws these at random (tests/support/fuzzing.py)

BASE_URL = API_URL
K = Settings.model_fields["suppression_k"].default
PHOTO = b"\xff\xd8\xff\xe0 not really a jpeg, never decoded on the way out"
# Per operation: enough to reach every parameter, few enough to stay quick.
EXAMPLES = 25
# Each of these costs a password hash (at production cost in `somos`; the in-process tests
# use a cheap one, tests/conftest.py).
FEWER_EXAMPLES = {"POST /api/v1/auth/token": 10, "POST /api/v1/me/password": 10}


def errors_are_problems(ctx: CheckContext, response: schemathesis.Response, case: Case) -> None:
    """Every error is an RFC 9457 problem with one of our stable `type` codes and its status."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/problem+json"), content_type
    body = response.json()
    assert body["type"].startswith(PROBLEM_BASE), body
    assert body["status"] == response.status_code, body
    return None


def valid_as_documented(ctx: CheckContext, response: schemathesis.Response, case: Case) -> None:
    """What the document calls valid, FastAPI's own validation never refuses.

    Instead of Schemathesis' `positive_data_acceptance`, which counts any 400 or 422 as a
    refusal of valid data: some refusals cannot be written in a schema (an unknown username,
    a forged cursor, a status the report cannot move to from where it is); they answer with
    their own problem type and are documented. The generic ones must match the document.
    """
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code in (400, 422):
        generic = {PROBLEM_BASE + "bad-request", PROBLEM_BASE + "validation-error"}
        assert response.json()["type"] not in generic, response.json()
    return None


def never_cached(ctx: CheckContext, response: schemathesis.Response, case: Case) -> None:
    """API answers carry decrypted reports and tokens: no cache keeps them, no browser sniffs."""
    assert response.headers.get("cache-control") == ["no-store"], response.headers
    assert response.headers.get("x-content-type-options") == ["nosniff"], response.headers
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    valid_as_documented,
    errors_are_problems,
    never_cached,
]


@dataclass
class World:
    """The app, signed-in roles, and real rows the fuzzer can aim at: without them every id
    and username it draws would only find nothing."""

    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]]
    path_parameters: list[dict[str, str]]
    usernames: list[str]


def _threat(municipality: str) -> NewReport:
    return threat(municipality, urgency="high", description="Hombres armados en la vereda",
                  when="when.today")


@pytest.fixture
async def world(client: httpx.AsyncClient, store: Store) -> World:
    staff = {
        "admin": await add_staff(store, "admin", role="admin"),
        "focal_point": await add_staff(store, "tumaco", municipalities=(TUMACO,)),
    }
    other = await add_staff(store, "caceres", municipalities=(CACERES,))
    photo = File({"kind": "photo", "mime": "image/jpeg", "size": len(PHOTO)}, PHOTO)
    with_photo = await submit(store, _threat(TUMACO), (photo,))
    for_admins = await submit(store, _threat(CARTAGENA))
    # Enough reports and priority answers in Tumaco that some aggregates are published.
    plain = [await submit(store, _threat(TUMACO)) for _ in range(K - 1)]
    priorities = [await submit(store, NewReport(
        kind="priority", category="priority.water", municipality_code=TUMACO,
        urgency="normal", answers={"concerns": ["priority.water", "priority.roads"]},
    )) for _ in range(K)]
    async with store.transaction() as session:
        attachment = (await session.exec(select(Attachment.id))).one()
        rule = await create_rule(session=session, actor="operator", user_id=other.id,
                                 department_code="52", kind="stigma")
    reports = [with_photo, plain[0], for_admins, priorities[0]]
    pins = [{"report_id": report} for report in reports]
    pins += [{"report_id": with_photo, "attachment_id": attachment}, {"rule_id": rule.id}]
    headers = {role: await login(client, person) for role, person in staff.items()}
    return World(client, headers, pins, ["admin", "tumaco", "caceres"])


def _httpx_request(case: Case, headers: dict[str, str]) -> httpx.Request:
    """The bytes Schemathesis would send with `requests`, as an httpx request."""
    prepared = requests.Request(**case.as_transport_kwargs(base_url=BASE_URL,
                                                           headers=headers)).prepare()
    return httpx.Request(prepared.method or "GET", prepared.url or BASE_URL,
                         headers=dict(prepared.headers), content=prepared.body)


def _strategy(operation: APIOperation, world: World) -> st.SearchStrategy[Case]:
    """Valid and invalid requests; valid ones mostly aimed at real ids and real usernames."""
    path_names = {parameter.name for parameter in operation.path_parameters}
    fitting = [pin for pin in world.path_parameters if set(pin) <= path_names]
    # Each real row twice for one drawn id: behind a drawn id there is only a 404.
    valid = st.sampled_from([None, *fitting, *fitting]).flatmap(
        lambda pin: operation.as_strategy(GenerationMode.POSITIVE, path_parameters=pin))
    invalid = operation.as_strategy(GenerationMode.NEGATIVE)

    def aim(drawn: tuple[Case, str | None]) -> Case:
        case, username = drawn
        positive = case.meta is not None and case.meta.generation.mode.is_positive
        if username and positive and isinstance(case.body, dict) and "username" in case.body:
            case.body["username"] = username
        return case

    return st.tuples(st.one_of(valid, invalid),
                     st.sampled_from([None, *world.usernames])).map(aim)


def _explain(error: BaseException) -> str:
    """The error and, for a group (Hypothesis' flaky reports are groups too), each member."""
    if isinstance(error, BaseExceptionGroup) and not isinstance(error, FailureGroup):
        return "\n".join([str(error), *(_explain(member) for member in error.exceptions)])
    return f"{type(error).__name__}: {error}"


def _fuzz(schema: BaseSchema, world: World, role: str,
          send: Callable[[httpx.Request], httpx.Response]) -> list[str]:
    """Every operation in turn; the failures of all of them, not only of the first."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        count = examples(FEWER_EXAMPLES.get(operation.label, EXAMPLES))

        @settings(max_examples=count, deadline=None, database=None)
        @given(case=_strategy(operation, world))
        def answers_as_documented(case: Case) -> None:
            response = send(_httpx_request(case, world.headers[role]))
            case.validate_response(response, checks=CHECKS, headers=world.headers[role])

        try:
            answers_as_documented()
        except (Exception, FailureGroup) as error:  # all reported together, below
            failures.append(f"{operation.label} as {role}: {_explain(error)}")
    return failures


@pytest.mark.parametrize("role", ["admin", "focal_point"])
async def test_every_operation_answers_as_documented(world: World, role: str) -> None:
    document = (await world.client.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
    loop = asyncio.get_running_loop()

    def send(request: httpx.Request) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(world.client.send(request), loop).result()

    failures = await asyncio.to_thread(_fuzz, schema.include(path_regex="^/api/v1/"), world,
                                       role, send)
    assert not failures, "\n\n".join(failures)
