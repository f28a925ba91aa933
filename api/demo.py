"""Synthetic reports for trying Somos and for benchmarks, through the real submission path.

Every report is routed, encrypted, rolled up and audited like a real one. Only
the receipt's Argon2 cost is the cheap one, because nobody will ever type these
codes (the cost is recorded per report, so verification still works).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from flows import taxonomy
from flows.municipalities import Catalog
from storage.models import Meta, Report
from storage.receipts import DEMO_ARGON2
from storage.reports import NewReport, Submission, submit_reports
from storage.routing import load_routing
from storage.store import Store

DEMO_MARK = "demo_seeded"
BATCH = 250
DESCRIPTIONS = (
    "Dejaron un panfleto en la tienda con una lista de nombres.",
    "Llamaron varias veces amenazando si no pagamos.",
    "Hombres armados pasaron preguntando por la presidenta de la junta.",
    "Publicaron en redes que el líder es colaborador de un grupo.",
    "Nos dijeron que debemos salir de la vereda esta semana.",
)


class SeedRefused(RuntimeError):
    """The database holds reports that were not seeded: refuse unless forced."""


def synthetic_report(rng: random.Random, municipalities: list[str]) -> NewReport:
    kind = rng.choices(["threat", "stigma", "priority"], weights=[6, 2, 2])[0]
    municipality = rng.choice(municipalities)
    if kind == "priority":
        concerns = rng.sample(list(taxonomy.PRIORITIES), k=rng.randint(1, 3))
        return NewReport(kind=kind, category=concerns[0], municipality_code=municipality,
                         urgency="normal", answers={"concerns": concerns})
    if kind == "stigma":
        return NewReport(
            kind=kind, category=rng.choice(list(taxonomy.STIGMA)),
            municipality_code=municipality, urgency=rng.choice(["normal", "high"]),
            answers={"leadership": rng.choice(list(taxonomy.LEADERSHIP)),
                     "description": rng.choice(DESCRIPTIONS)},
        )
    return NewReport(
        kind=kind, category=rng.choice(list(taxonomy.THREATS)), municipality_code=municipality,
        urgency=rng.choices(["normal", "high", "immediate"], weights=[6, 3, 1])[0],
        answers={"target": rng.choice(list(taxonomy.TARGETS)),
                 "description": rng.choice(DESCRIPTIONS)},
    )


async def seed(
    *, store: Store, count: int, departments: tuple[str, ...], force: bool = False,
    seed_value: int | None = None, progress: Callable[[int], None] = lambda _: None,
    now: datetime | None = None, municipalities: Sequence[str] = (),
) -> int:
    """Writes `count` synthetic reports spread over the last 24 months; returns the count.
    With `municipalities`, only there (to try a municipality's bulletin, say)."""
    async with store.transaction() as session:
        existing = (await session.exec(select(func.count()).select_from(Report))).one()
        marked = await session.get(Meta, DEMO_MARK)
        if existing and marked is None and not force:
            raise SeedRefused(
                f"La base tiene {existing} reportes reales. Use --force solo si está seguro."
            )
        if marked is None:
            session.add(Meta(key=DEMO_MARK, value="1"))
        routing = await load_routing(session=session)
    rng = random.Random(seed_value)  # noqa: S311 - synthetic data, not secrets
    places = list(municipalities) or [m.code for d in departments for m in
                                      Catalog.load(departments=departments).in_department(d)]
    end = now or datetime.now(UTC)
    written = 0
    while written < count:
        batch = min(BATCH, count - written)
        async with store.transaction() as session:
            submissions = []
            for _ in range(batch):
                report = synthetic_report(rng, places)
                when = end - timedelta(minutes=rng.randint(0, 60 * 24 * 730))
                recipients = routing.recipients(
                    municipality_code=report.municipality_code, kind=report.kind,
                    category=report.category, urgency=report.urgency)
                submissions.append(Submission(report=report, now=when, recipients=recipients,
                                              with_receipt=report.kind != "priority"))
            await submit_reports(session=session, keyring=store.keyring, submissions=submissions,
                                 argon2_params=DEMO_ARGON2, notify=False)
        written += batch
        progress(batch)
    return written
