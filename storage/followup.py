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

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.keyfile import Keyring
from storage.models import Report
from storage.reports import Opened, find_by_receipt
from storage.triage import open_for_reporter


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
