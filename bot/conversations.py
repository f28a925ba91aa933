"""The transport-independent unit of work: draft in, one flow step, draft or report out.

Telegram and the console both call `Conversations.handle`. Each call runs in
one database transaction, so any replica can serve any update.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flows.engine import Event, Msg, Reply, State, advance
from flows.engine import Flow as FlowDefinition
from flows.reports import MSG_SUBMIT_FAILED, receipt_replies, submission_from_state
from storage.drafts import delete_draft, load_draft, save_draft
from storage.receipts import format_receipt_code
from storage.reports import NewReport, submit_report
from storage.store import Store

log = logging.getLogger("somos.bot")


@dataclass(frozen=True)
class Conversations:
    store: Store
    flow: FlowDefinition
    draft_ttl: timedelta = timedelta(minutes=30)

    def chat_pseudonym(self, chat_id: int | str) -> str:
        """HMAC(pepper, chat id): the only form in which a chat is ever keyed."""
        return self.store.keyring.pseudonym(chat_id, "chat")

    async def handle(self, *, pseudonym: str, event: Event) -> tuple[State, list[Reply]]:
        """Applies one event; a confirmed report is committed before its receipt is returned."""
        now = datetime.now(UTC)
        try:
            async with self.store.transaction() as session:
                raw = await load_draft(
                    session=session, keyring=self.store.keyring, pseudonym=pseudonym, now=now
                )
                state, replies = advance(self.flow, State.from_json(raw) if raw else None, event)
                receipt: str | None = None
                if state.status == "submitted":
                    submission = submission_from_state(state)
                    submitted = await submit_report(
                        session=session,
                        keyring=self.store.keyring,
                        report=NewReport(
                            kind=submission.kind,
                            category=submission.category,
                            municipality_code=submission.municipality_code,
                            urgency=submission.urgency,
                            answers=submission.answers,
                        ),
                        now=now,
                        argon2_params=self.store.argon2,
                    )
                    receipt = submitted.receipt_code
                    await delete_draft(session=session, pseudonym=pseudonym)
                    log.info("report submitted kind=%s urgency=%s", submission.kind,
                             submission.urgency)
                elif state.status == "cancelled":
                    await delete_draft(session=session, pseudonym=pseudonym)
                else:
                    await save_draft(
                        session=session, keyring=self.store.keyring, pseudonym=pseudonym,
                        state_json=state.to_json(), now=now, ttl=self.draft_ttl,
                    )
        except Exception as error:
            # Event and content stay out of the log; the type is enough to investigate.
            log.error("conversation step failed: %s", type(error).__name__)
            return State(), [Reply(Msg(MSG_SUBMIT_FAILED))]
        if receipt is not None:
            replies = [*replies, *receipt_replies(format_receipt_code(receipt))]
        return state, replies
