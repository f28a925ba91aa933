"""Suppression that holds across queries (design §7): the differencing adversary finds nothing.

Hypothesis seeds a small world of reports (municipalities in two departments, threat,
stigma and priority cells, months across a quarter and a year) through the real
rollup writes, then an adversary asks sets of questions — tables by any one or two
dimensions, windows, kind filters, focal points' scopes, both profiles, and the
community priorities by municipality and by department — through `api.aggregates`,
the code behind the API, the exports, the dashboard and the CLI. It turns every
answer into constraints on true counts and tries to prove one of them in 1..k−1
(`tests.support.adversary`).

* With the outputs as they are (perturbed noise cells, then suppression), it pins
  nothing, for the analyst (k=5) and the public (k=10) profiles.
* Run on plain tables (true counts, suppression only: what was published before),
  the same adversary pins the October / October–November case and finds more in
  generated worlds, so these tests can fail.
* Knowledge, not luck: a world where one noise cell holds another count, with record
  keys that give the same perturbed value, publishes byte-identical outputs.

`make test` runs a fixed number of examples at a fixed seed; `make test-adversary`
runs many more at random seeds (SOMOS_ADVERSARY_EXAMPLES, SOMOS_ADVERSARY_RANDOM), and so
does `make fuzz` (tests/support/fuzzing.py).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from api.aggregates import (
    ALL,
    PUBLIC_K,
    closed,
    last_closed_month,
    protected_priorities,
    protected_table,
    to_csv,
)
from storage.aggregates import BORDA_POINTS, Query, Scope, count_reports, priority_rankings
from storage.cellkey import KEY_SPACE, MAX_NOISE, key_range, perturb, possible_counts
from storage.disclosure import Table, protect, protect_public
from storage.migrate import upgrade
from storage.models import PriorityAnswer, PriorityTally
from storage.rollups import GRAINS, Added, AnswerCell, Cell, add, bump_rollups
from storage.store import Store, open_store
from tests.support import fuzzing
from tests.support.adversary import Adversary
from tests.support.places import PASTO, TUMACO

K = 5
NOW = datetime(2026, 6, 15, tzinfo=UTC)   # every month below has ended
MONTHS = ("2025-10", "2025-11", "2025-12", "2026-01")   # a quarter and a year change
POPAYAN = "19001"
CATEGORIES = {"threat": ("threat.death_threat", "threat.recruitment", "threat.attack"),
              "stigma": ("stigma.by_armed_group",)}
RANKINGS = (("priority.extortion",), ("priority.homicide",),
            ("priority.extortion", "priority.homicide"),
            ("priority.homicide", "priority.child_recruitment", "priority.extortion"))
DIMENSIONS = ("department", "municipality", "kind", "category", "month", "quarter", "year")
EXAMPLES = int(os.environ.get("SOMOS_ADVERSARY_EXAMPLES", str(fuzzing.examples(25))))
RANDOM = os.environ.get("SOMOS_ADVERSARY_RANDOM", "0") == "1" or fuzzing.FUZZING
ATTACK = settings(max_examples=EXAMPLES, derandomize=not RANDOM, database=None, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class NoiseCell:
    """One noise cell of the world: the adversary knows it exists, not its count."""

    municipality: str
    kind: str
    category: str           # for priority answers: the ranking's first concern
    month: str
    ranking: tuple[str, ...] = ()

    def value(self, dimension: str) -> str:
        year, number = self.month[:4], int(self.month[5:])
        return {"department": self.municipality[:2], "municipality": self.municipality,
                "kind": self.kind, "category": self.category, "month": self.month,
                "quarter": f"{year}-Q{(number - 1) // 3 + 1}", "year": year}[dimension]

    def __str__(self) -> str:
        return " ".join((self.municipality, self.kind, ">".join(self.ranking) or self.category,
                         self.month))


@dataclass(frozen=True)
class World:
    cells: tuple[NoiseCell, ...]
    counts: tuple[int, ...]
    keys: tuple[int, ...]          # cell keys: sums of the reports' record keys mod 2^32

    def replaced(self, index: int, count: int, key: int) -> World:
        return World(self.cells, self.counts[:index] + (count,) + self.counts[index + 1:],
                     self.keys[:index] + (key,) + self.keys[index + 1:])


def universe(municipalities: tuple[str, ...], months: tuple[str, ...]) -> tuple[NoiseCell, ...]:
    cells = [NoiseCell(m, kind, category, month) for m in municipalities for month in months
             for kind, categories in CATEGORIES.items() for category in categories]
    cells += [NoiseCell(m, "priority", ranking[0], month, ranking)
              for m in municipalities for month in months for ranking in RANKINGS]
    return tuple(cells)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    municipalities = draw(st.sampled_from([(TUMACO,), (TUMACO, PASTO), (TUMACO, POPAYAN),
                                           (TUMACO, PASTO, POPAYAN)]))
    first = draw(st.integers(0, len(MONTHS) - 2))
    months = MONTHS[first:first + draw(st.integers(2, len(MONTHS) - first))]
    cells = universe(municipalities, months)
    if draw(st.booleans()):  # sparse: a lone report here and there, where presence bites
        count = st.sampled_from((0,) * 9 + (1, 2, 3, 7, 15))
    else:
        count = st.one_of(st.just(0), st.just(0), st.integers(1, K - 1), st.integers(1, 9),
                          st.integers(5, 30))
    counts = tuple(draw(count) for _ in cells)
    keys = tuple(draw(st.integers(0, KEY_SPACE - 1)) if n else 0 for n in counts)
    return World(cells, counts, keys)


def october_november() -> World:
    """The issue's case: 6 threats in Tumaco in October, 1 child-recruitment threat in
    November; Pasto has attacks in November, so its table has an 'attack' column."""
    cells = universe((TUMACO, PASTO), MONTHS[:2])
    counts = {NoiseCell(TUMACO, "threat", "threat.death_threat", "2025-10"): 6,
              NoiseCell(TUMACO, "threat", "threat.recruitment", "2025-11"): 1,
              NoiseCell(PASTO, "threat", "threat.attack", "2025-11"): 12}
    # Cell keys chosen so the noise is 0 (the middle of every p-table row).
    return World(cells, tuple(counts.get(c, 0) for c in cells),
                 tuple(key_range(counts[c], counts[c]).start if c in counts else 0
                       for c in cells))


def a_lone_answer_among_many() -> World:
    """Eight people in Tumaco put extortion alone first; one more ranked homicide, child
    recruitment and extortion, and that answer is published as 0."""
    cells = universe((TUMACO,), MONTHS[:1])
    many = NoiseCell(TUMACO, "priority", "priority.extortion", MONTHS[0], RANKINGS[0])
    lone = NoiseCell(TUMACO, "priority", "priority.homicide", MONTHS[0], RANKINGS[3])
    counts = {many: 8, lone: 1}
    keys = {many: key_range(8, 8).start, lone: key_range(1, 0).start}
    return World(cells, tuple(counts.get(c, 0) for c in cells),
                 tuple(keys.get(c, 0) for c in cells))


# --------------------------------------------------------------------------- the questions


@dataclass(frozen=True)
class Ask:
    """One output: a protected table, or the community priorities (by municipality or by
    department)."""

    group_by: tuple[str, ...] = ()      # () asks for the priorities
    month_from: str | None = None
    month_to: str | None = None
    kind: str | None = None
    scope: Scope = Scope()
    profile: str = "analyst"
    priorities_by: str = "municipality"

    @property
    def k(self) -> int:
        return PUBLIC_K if self.profile == "public" else K

    def query(self) -> Query:
        return Query(group_by=self.group_by, month_from=self.month_from,
                     month_to=self.month_to, kind=self.kind, scope=self.scope)

    def covers(self, cell: NoiseCell) -> bool:
        """Whether a noise cell counts in this output at all (window, kind, scope)."""
        query = closed(self.query(), NOW)
        if query.month_from and cell.month < query.month_from:
            return False
        if query.month_to and cell.month > query.month_to:
            return False
        if not self.group_by:
            return cell.kind == "priority" and _in_scope(self.scope, cell.municipality)
        return (not self.kind or cell.kind == self.kind) and _in_scope(self.scope,
                                                                       cell.municipality)


def _in_scope(scope: Scope, municipality: str) -> bool:
    return scope.unrestricted or municipality in (scope.municipalities or ()) or (
        municipality[:2] in (scope.departments or ()))


GROUPINGS = [(d,) for d in DIMENSIONS] + [(a, b) for a in DIMENSIONS for b in DIMENSIONS
                                          if a != b]
WINDOW_ENDS = st.sampled_from((None, *MONTHS))
SCOPES = st.sampled_from([
    Scope(), Scope(municipalities=frozenset({TUMACO})), Scope(departments=frozenset({"52"})),
    Scope(departments=frozenset({"19"}), municipalities=frozenset({TUMACO})),
])


@st.composite
def asks(draw: st.DrawFn) -> Ask:
    start, end = draw(WINDOW_ENDS), draw(WINDOW_ENDS)
    if start and end and start > end:
        start, end = end, start
    scope = draw(SCOPES)
    if draw(st.integers(0, 5)) == 0:
        return Ask((), start, end, scope=scope,
                   priorities_by=draw(st.sampled_from(("municipality", "department"))))
    return Ask(draw(st.sampled_from(GROUPINGS)), start, end,
               draw(st.sampled_from((None, None, "threat", "stigma", "priority"))), scope,
               draw(st.sampled_from(("analyst", "public"))))


def _shift(month: str | None, step: int) -> str | None:
    if month is None:
        return MONTHS[0] if step > 0 else None
    index = MONTHS.index(month) + step if month in MONTHS else -1
    return MONTHS[index] if 0 <= index < len(MONTHS) else None


@st.composite
def variants(draw: st.DrawFn, base: Ask) -> Ask:
    """A question one step from another: the raw material of differencing."""
    change = draw(st.sampled_from(("from", "to", "kind", "group_by", "scope", "profile")))
    if change in ("from", "to"):
        name = "month_from" if change == "from" else "month_to"
        moved = _shift(getattr(base, name), draw(st.sampled_from((-1, 1))))
        ask = Ask(base.group_by, **{**_window(base), name: moved}, kind=base.kind,
                  scope=base.scope, profile=base.profile, priorities_by=base.priorities_by)
        if ask.month_from and ask.month_to and ask.month_from > ask.month_to:
            return base
        return ask
    if change == "kind" and base.group_by:
        return Ask(base.group_by, base.month_from, base.month_to,
                   draw(st.sampled_from((None, "threat", "stigma", "priority"))), base.scope,
                   base.profile)
    if change == "group_by" and base.group_by:
        return Ask(draw(st.sampled_from(GROUPINGS)), base.month_from, base.month_to,
                   base.kind, base.scope, base.profile)
    if change == "scope":
        return Ask(base.group_by, base.month_from, base.month_to, base.kind, draw(SCOPES),
                   base.profile, base.priorities_by)
    if base.group_by:
        return Ask(base.group_by, base.month_from, base.month_to, base.kind, base.scope,
                   "public" if base.profile == "analyst" else "analyst")
    return base


def _window(ask: Ask) -> dict[str, str | None]:
    return {"month_from": ask.month_from, "month_to": ask.month_to}


@st.composite
def question_sets(draw: st.DrawFn) -> list[Ask]:
    """A few unrelated questions and chains of near neighbours of them."""
    questions = draw(st.lists(asks(), min_size=1, max_size=4))
    for _ in range(draw(st.integers(1, 10))):
        questions.append(draw(variants(draw(st.sampled_from(questions)))))
    return list(dict.fromkeys(questions))


QUESTIONS = question_sets()
# The questions, asked in both profiles.
OCTOBER_NOVEMBER = [
    Ask(("municipality",), "2025-10", "2025-10", profile=profile) for profile in ("analyst",
                                                                                  "public")
] + [
    Ask(("municipality",), "2025-10", "2025-11", profile=profile) for profile in ("analyst",
                                                                                  "public")
] + [
    Ask(("municipality", "category"), "2025-11", "2025-11", profile=profile)
    for profile in ("analyst", "public")
]


# --------------------------------------------------------------------------- publishing


class Bench:
    """One SQLite installation for the whole module, reset for each world."""

    def __init__(self, path: Path) -> None:
        self.runner = asyncio.Runner()
        self.store: Store = open_store(database_url=f"sqlite:///{path / 'somos.db'}",
                                       key_file=path / "keys.json", fast_kdf=True)
        self.runner.run(upgrade(self.store.engine))

    def close(self) -> None:
        self.runner.run(self.store.close())
        self.runner.close()

    def publish(self, world: World, questions: list[Ask], *, plain: bool = False) -> list[Any]:
        return self.runner.run(self._publish(world, questions, plain))

    async def _publish(self, world: World, questions: list[Ask], plain: bool) -> list[Any]:
        async with self.store.transaction() as session:
            for table in [grain.table for grain in GRAINS] + [
                    PriorityAnswer.__table__, PriorityTally.__table__]:  # type: ignore[attr-defined]
                await session.exec(delete(table))
            cells: dict[Cell, Added] = {}
            answers: dict[AnswerCell, Added] = {}
            for cell, count, key in zip(world.cells, world.counts, world.keys, strict=True):
                if not count:
                    continue
                rollup = Cell(cell.municipality, cell.kind, cell.category, cell.month)
                cells[rollup] = add(cells.get(rollup, Added(0, 0)), Added(count, key))
                if cell.ranking:
                    answers[AnswerCell(cell.municipality, cell.month, cell.ranking)] = Added(
                        count, key)
            await bump_rollups(session=session, cells=cells, answers=answers)
        outputs: list[Any] = []
        async with self.store.transaction() as session:
            for ask in questions:
                if not ask.group_by:
                    publish = _plain_priorities if plain else protected_priorities
                    outputs.append(await publish(
                        session=session, scope=ask.scope, k=K, month_from=ask.month_from,
                        month_to=ask.month_to, now=NOW, by=ask.priorities_by))
                    continue
                publish_table = _plain_table if plain else protected_table
                protected = await publish_table(session=session, query=ask.query(), k=K,
                                                profile=ask.profile, now=NOW)
                outputs.append(protected.as_json("en") | {"csv": to_csv(protected, hxl=True)})
        return outputs


async def _plain_table(*, session: Any, query: Query, k: int, profile: str,
                       now: datetime) -> Any:
    """What the outputs published before: true counts, suppression only."""
    from api.aggregates import Protected

    if profile == "public":
        k = max(k, PUBLIC_K)
    query = closed(query, now)
    counts = await count_reports(session=session, query=query)
    rows = tuple(sorted({key[0] for key in counts}))
    if len(query.group_by) == 2:
        columns = tuple(sorted({key[1] for key in counts}))
        table = Table(rows, columns, {(key[0], key[1]): v for key, v in counts.items()})
    else:
        table = Table(rows, (ALL,), {(key[0], ALL): v for key, v in counts.items()})
    published = protect_public(table, k=k) if profile == "public" else protect(table, k=k)
    return Protected(query, profile, published)


async def _plain_priorities(*, session: Any, scope: Scope, k: int, month_from: str | None,
                            month_to: str | None, now: datetime,
                            by: str) -> list[dict[str, Any]]:
    last = last_closed_month(now)
    return [{f"{by}_code": r.municipality_code,
             "respondents": None if r.respondents < k else r.respondents,
             "suppressed": r.respondents < k,
             "concerns": [] if r.respondents < k else [
                 {"code": code, "points": points} for code, points in r.concerns]}
            for r in await priority_rankings(session=session, month_from=month_from,
                                             month_to=min(month_to or last, last),
                                             scope=scope, by=by)]


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    opened = Bench(tmp_path_factory.mktemp("differencing"))
    try:
        yield opened
    finally:
        opened.close()


# --------------------------------------------------------------------------- the attack


def attack(world: World, questions: list[Ask], outputs: list[Any], *, noise: int) -> Adversary:
    """Everything the outputs say, as constraints; the counts worth pinning as targets."""
    adversary = Adversary(cells=len(world.cells), max_noise=noise)
    for index, cell in enumerate(world.cells):
        adversary.target([index], f"noise cell {cell}")
    for ask, output in zip(questions, outputs, strict=True):
        covered = [i for i, cell in enumerate(world.cells) if ask.covers(cell)]
        if ask.group_by:
            _read_table(adversary, world, ask, output, covered)
        else:
            _read_priorities(adversary, world, ask, output, covered)
    # Natural counts: a municipality's month, and its priority answers by first concern.
    natural: dict[tuple[str, ...], list[int]] = {}
    for index, cell in enumerate(world.cells):
        natural.setdefault((cell.municipality, cell.month), []).append(index)
        natural.setdefault((cell.municipality, cell.kind, cell.category, cell.month),
                           []).append(index)
    for key, members in natural.items():
        adversary.target(members, " ".join(key))
    return adversary


def _read_table(adversary: Adversary, world: World, ask: Ask, body: dict[str, Any],
                covered: list[int]) -> None:
    groups: dict[tuple[str, str], list[int]] = {}
    for i in covered:
        cell = world.cells[i]
        column = cell.value(ask.group_by[1]) if len(ask.group_by) == 2 else ALL
        groups.setdefault((cell.value(ask.group_by[0]), column), []).append(i)
    rows = {row["code"] for row in body["rows"]}
    columns = {column["code"] for column in body["columns"]}
    shown = {(c["row"], c["column"]): c["count"] for c in body["cells"]}
    analyst = ask.profile == "analyst"
    for (row, column), members in groups.items():
        name = f"{ask}: {row} × {column}"
        adversary.target(members, name)
        if row not in rows or column not in columns:
            adversary.observe(members, 0, 0)   # not listed: its published sum is 0
        elif shown[(row, column)] is not None:
            adversary.observe(members, shown[(row, column)], shown[(row, column)])
        elif analyst:
            adversary.observe(members, 1)      # suppressed cells are never zeros
    if not analyst:
        return  # public margins add up published cells only: nothing new
    lines: dict[tuple[str, str], list[int]] = {}
    for (row, column), members in groups.items():
        lines.setdefault(("row", row), []).extend(members)
        lines.setdefault(("column", column), []).extend(members)
        lines.setdefault(("total", ""), []).extend(members)
    for (line, code), members in lines.items():
        value = (body["total"] if line == "total" else
                 body[f"{line}_totals"].get(code, 0))
        if value is None:
            adversary.observe(members, 1)
        else:
            adversary.observe(members, value, value)


def _read_priorities(adversary: Adversary, world: World, ask: Ask, items: list[dict[str, Any]],
                     covered: list[int]) -> None:
    by = ask.priorities_by
    listed = {item[f"{by}_code"]: item for item in items}
    by_place: dict[str, list[int]] = {}
    for i in covered:
        municipality = world.cells[i].municipality
        by_place.setdefault(municipality if by == "municipality" else municipality[:2],
                            []).append(i)
    concerns = {c for ranking in RANKINGS for c in ranking}
    for municipality, members in by_place.items():
        adversary.target(members, f"{ask}: respondents in {municipality}")
        item = listed.get(municipality)
        if item is None:
            adversary.observe(members, 0, 0)
            continue
        if item["respondents"] is None:
            adversary.observe(members, 1, K - 1)
            continue
        adversary.observe(members, item["respondents"], item["respondents"])
        points = {c["code"]: c["points"] for c in item["concerns"]}
        for concern in concerns:
            weights = {i: BORDA_POINTS[world.cells[i].ranking.index(concern) + 1]
                       for i in members if concern in world.cells[i].ranking}
            adversary.observe(weights, points.get(concern, 0), points.get(concern, 0))


def smallest_k(questions: list[Ask]) -> int:
    return min(ask.k for ask in questions)


# --------------------------------------------------------------------------- tests


def test_on_plain_tables_the_adversary_pins_the_october_november_case(bench: Bench) -> None:
    world, questions = october_november(), OCTOBER_NOVEMBER
    outputs = bench.publish(world, questions, plain=True)
    pinned = attack(world, questions, outputs, noise=0).pinned(K)
    assert pinned[f"noise cell {TUMACO} threat threat.recruitment 2025-11"] == 1
    assert pinned[f"{TUMACO} 2025-11"] == 1


@ATTACK
@given(world=worlds(), questions=QUESTIONS)
@example(world=october_november(), questions=OCTOBER_NOVEMBER)
def test_the_adversary_pins_nothing_in_either_profile(
    bench: Bench, world: World, questions: list[Ask]
) -> None:
    k = smallest_k(questions)
    outputs = bench.publish(world, questions)
    adversary = attack(world, questions, outputs, noise=MAX_NOISE)
    assert adversary.pinned(k) == {}
    # The same questions against plain tables, for the statistics: how often they
    # would have exposed someone (`pytest --hypothesis-show-statistics`).
    plain = attack(world, questions, bench.publish(world, questions, plain=True), noise=0)
    event("plain suppression: " + ("pinned a count" if plain.pinned(k) else "pinned nothing"))


def test_on_plain_tables_the_adversary_finds_something_in_generated_worlds(
    bench: Bench,
) -> None:
    """The generated worlds and questions are strong enough to break plain suppression."""
    found: list[dict[str, int]] = []

    @settings(max_examples=200, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate],  # the first find is enough: no shrinking
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(world=worlds(), questions=QUESTIONS)
    def search(world: World, questions: list[Ask]) -> None:
        outputs = bench.publish(world, questions, plain=True)
        pinned = attack(world, questions, outputs, noise=0).pinned(smallest_k(questions))
        if pinned:
            found.append(pinned)
            raise _Found

    with pytest.raises(_Found):
        search()
    assert found


class _Found(Exception):
    pass


@ATTACK
@given(world=worlds(), questions=QUESTIONS, data=st.data())
@example(world=october_november(), questions=OCTOBER_NOVEMBER, data=None)
@example(world=a_lone_answer_among_many(), questions=[Ask(), Ask(("category",), kind="priority")],
         data=None)
def test_a_world_with_another_count_publishes_the_same_thing(
    bench: Bench, world: World, questions: list[Ask], data: st.DataObject | None
) -> None:
    """What the outputs tell is only the perturbed noise cells: change a reported count to
    another one that fits the same perturbed value (and a key that gives it), and not a
    byte of any output changes — so nothing in them can pin that count.

    Every reported cell published as 0 is tried with no report at all (the presence
    question), and one more reported cell with another count."""
    reported = [i for i, n in enumerate(world.counts) if n]
    chosen = [i for i in reported if perturb(world.counts[i], world.keys[i]) == 0][:6]
    recruitment = NoiseCell(TUMACO, "threat", "threat.recruitment", "2025-11")
    if data is None and recruitment in world.cells:  # the case
        chosen.append(world.cells.index(recruitment))
    elif data is not None and reported:
        chosen.append(data.draw(st.sampled_from(reported)))
    published = bench.publish(world, questions)
    for index in dict.fromkeys(chosen):
        count, key = world.counts[index], world.keys[index]
        shown = perturb(count, key)
        others = [n for n in possible_counts(shown) if n != count]
        assert others, "every perturbed value fits more than one count"
        other = 0 if 0 in others or data is None else data.draw(st.sampled_from(others))
        other = other if other in others else others[0]
        other_key = key_range(other, shown).start if other else 0
        assert perturb(other, other_key) == shown
        twin = world.replaced(index, other, other_key)
        assert bench.publish(twin, questions) == published, world.cells[index]


def test_the_public_profile_shows_a_zero_like_a_small_count(bench: Bench) -> None:
    world = october_november()
    (public,) = bench.publish(world, [Ask(("municipality", "category"), "2025-11",
                                          "2025-11", profile="public")])
    values = {(c["row"], c["column"]): c["count"] for c in public["cells"]}
    assert values[(TUMACO, "threat.attack")] is None          # a true 0
    assert values[(TUMACO, "threat.recruitment")] is None     # a true 1
    assert 0 not in values.values()

