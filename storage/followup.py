"""The reporter's way back to a report: the receipt code, then a handle kept in the draft.

After the code is checked once, the conversation keeps a handle to the report's data
key so the reporter can answer, add evidence or ask for protection without typing the
code again; the code itself is never kept. The handle lives only inside the reporter's
draft, which is sealed with the server key under the chat's pseudonym and expires with
it (`storage.drafts`), so key rotation moves it with the draft.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.keyfile import Keyring
from storage.models import Report
from storage.reporter_side import open_for_reporter
from storage.reports import Opened, find_by_receipt
from storage.triage import list_events


async def open_with_receipt(
    *, session: AsyncSession, keyring: Keyring, code: str
) -> Opened | None:
    """The report whose receipt code this is, its data key unwrapped by the code; None when
    no report has it (the caller rate-limits the attempts)."""
    found = await find_by_receipt(session=session, keyring=keyring, code=code)
    if found is None:
        return None
    report, secrets = found
    return await open_for_reporter(session=session, report=report,
                                   receipt_private_key=secrets.private_key)


def followup_handle(opened: Opened) -> str:
    """The handle to keep in the (sealed, expiring) draft: the report id and its data key."""
    return json.dumps({"report": opened.report.id,
                       "key": base64.b64encode(opened.data_key).decode()})


async def open_followup_handle(*, session: AsyncSession, handle: str) -> Opened | None:
    """The report a handle names, with its data key; None if the handle is not one of ours
    or the report is gone (purged)."""
    try:
        data = json.loads(handle)
        report_id, key = str(data["report"]), base64.b64decode(data["key"], validate=True)
    except (ValueError, TypeError, KeyError, binascii.Error):
        return None
    report = await session.get(Report, report_id)
    return None if report is None else Opened(report, key)


@dataclass(frozen=True)
class CaseMessage:
    """A message of the case as the reporter reads it: who wrote it, the text, and when
    (exact for the team's, rounded down to the hour for the reporter's own)."""

    author: str  # "team" or "reporter"
    text: str
    at: datetime


@dataclass(frozen=True)
class CaseView:
    """What the reporter sees of their case after typing the receipt code."""

    status: str
    kind: str
    # The last referral's entity code and the reference the focal point wrote, if any.
    referral: tuple[str, str] | None
    # In the order they were written: by the events' sequence, not by their times.
    messages: list[CaseMessage]


async def case_view(*, session: AsyncSession, opened: Opened) -> CaseView:
    """The status, the last referral (its entity and reference are read from the status
    event, or the reference event that filled a pending number, encrypted under the
    report's key) and the messages, in order."""
    events = await list_events(session=session, opened=opened,
                               kinds=("status", "reference", "to_reporter", "from_reporter"))
    referral = None
    for event in events:
        referred = event["kind"] == "status" and event.get("to") == "referred"
        # A filing number written after the referral completes it.
        if (referred or event["kind"] == "reference") and event.get("entity"):
            referral = (str(event["entity"]), str(event.get("reference") or ""))
    messages = [
        CaseMessage("reporter" if e["kind"] == "from_reporter" else "team",
                    str(e.get("text", "")), e["at"])
        for e in events if e["kind"] in ("to_reporter", "from_reporter")
    ]
    return CaseView(opened.report.status, opened.report.kind, referral, messages)
