"""Reports stored straight into the store, as the bot submits them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from storage.attachments import File
from storage.reports import NewReport, submit_report
from storage.store import Store
from tests.support.places import TUMACO


def threat(
    municipality: str = TUMACO, *, category: str = "threat.surveillance",
    urgency: str = "normal", **answers: object,
) -> NewReport:
    """A threat report with exactly these answers (description, when, target...)."""
    return NewReport(kind="threat", category=category, municipality_code=municipality,
                     urgency=urgency, answers=dict(answers))


async def submit(
    store: Store, report: NewReport, files: Sequence[File] = (), *, now: datetime | None = None
) -> str:
    """Stores `report` (a receipt unless it is a priority survey, as the bot does); its id."""
    async with store.transaction() as session:
        submitted = await submit_report(
            session=session, keyring=store.keyring, argon2_params=store.argon2,
            now=now or datetime.now(UTC), report=report, files=files,
            with_receipt=report.kind != "priority",
        )
    return submitted.report_id
