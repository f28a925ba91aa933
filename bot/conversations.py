"""The transport-independent unit of work: draft in, one flow step, draft or report out.

Telegram and the console both call `Conversations.handle`. Each call runs in
one database transaction, so any replica can serve any update. Effects the
flow asks for (a receipt check, local emergency lines) run inside that same
transaction; wiping the chat is left to the transport, which owns the messages.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton

from bot.i18n import DEFAULT_LOCALE, SUPPORTED
from bot.refusals import MSG_TOO_LARGE
from flows.engine import (
    Effect,
    Event,
    FileSent,
    Msg,
    Pick,
    Reply,
    Result,
    State,
    advance,
    wants_file,
)
from flows.engine import Flow as FlowDefinition
from flows.messages import N_
from flows.priorities import priority_thanks_replies
from flows.protection import PROTECTION_REQUEST, protection_request
from flows.reports import (
    MSG_SUBMIT_FAILED,
    Promise,
    confirmed_report,
    receipt_replies,
    unfinished_report,
)
from flows.wipe import after_report_state
from storage.attachments import (
    MAX_ATTACHMENT_BYTES,
    File,
    discard_draft_attachments,
    draft_attachment_bytes,
    put_draft_attachment,
    read_draft_attachments,
)
from storage.chats import claim_update, count_attempt, get_locale, set_locale
from storage.drafts import delete_draft, open_draft, save_draft
from storage.epochs import carry_draft_over
from storage.followup import (
    case_view,
    followup_handle,
    open_followup_handle,
    open_with_receipt,
)
from storage.lines import lines_for
from storage.receipts import format_receipt_code
from storage.reporter_side import (
    add_reporter_evidence,
    protection_request_report,
    reporter_replies,
    request_protection,
    revoke_contact,
)
from storage.reports import NewReport, make_receipt, submit_report
from storage.store import Store

log = logging.getLogger("somos.bot")
BOGOTA = ZoneInfo("America/Bogota")

# Said to the first message after an unfinished report expired; the welcome and the menu
# follow, to start again.
MSG_DRAFT_EXPIRED = N_(
    "Pasaron más de {minutes} minutos sin actividad, así que, para su seguridad, borré su "
    "reporte sin terminar. No se envió. Puede empezar de nuevo cuando quiera."
)
MSG_SLOW_DOWN = N_("Está enviando muchos mensajes seguidos. Espere un minuto, por favor.")
# A person tapping quickly through a report sends about one update a second.
MESSAGES_PER_MINUTE = 60
RECEIPT_ATTEMPTS = 5
RECEIPT_WINDOW = timedelta(minutes=15)

MSG_FILES_THIS_HOUR = N_(
    "Recibí muchos archivos de este chat en la última hora. Espere un rato para enviar "
    "más, o siga sin ellos."
)
MSG_FILES_THIS_REPORT = N_(
    "Ya recibí {megabytes} MB de archivos para este reporte. Es el máximo. "
    "Siga con lo que ya envió."
)
# What one chat may make the server download, decode and keep (issue 13): a report's
# five files at the size Telegram usually gives, and a few reports an hour. Counted before
# anything is downloaded, in KiB so a flood cannot overflow the counter.
FILES_PER_HOUR = 20
FILE_KIB_PER_HOUR = 60 * 1024
DRAFT_FILE_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class Turn:
    """What the transport must do after one event: replies, and perhaps wipe the chat first."""

    state: State
    replies: list[Reply] = field(default_factory=list)
    wipe: bool = False
    duplicate: bool = False
    throttled: bool = False
    # A button of an earlier question: its message is not the one to turn into the answer.
    stale: bool = False

    @property
    def outcome(self) -> str:
        """How the update went, as the metrics count it."""
        return "duplicate" if self.duplicate else "throttled" if self.throttled else "processed"


@dataclass(frozen=True)
class Upload:
    """A received file, already stripped of metadata by the transport."""

    file: File


@dataclass(frozen=True)
class Offer:
    """A file the person sent, not yet downloaded: what the transport knows of it first.

    `fetch` downloads it and strips its metadata, or says in a message why it cannot. It
    is only called once the chat's rate limit and quotas allow the file and the current
    question takes it: nothing else is downloaded, decoded or stored.
    """

    kind: str
    size: int | None
    fetch: Callable[[], Awaitable[File | Msg]]


@dataclass(frozen=True)
class Conversations:
    store: Store
    flow: FlowDefinition
    draft_ttl: timedelta = timedelta(minutes=30)
    default_locale: str = "es"
    # Who reads reports, named after each one (SOMOS_ORGANIZATION_NAME).
    promise: Promise = field(default_factory=Promise)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Told the outcome of every update (processed, duplicate, throttled, failed): a count
    # for the operator's metrics, never the event or the chat.
    count_update: Callable[[str], None] = field(default=lambda _outcome: None)

    async def chat_pseudonym(self, chat_id: int | str) -> str:
        """The chat's pseudonym in the current epoch, the only form in which a chat is ever
        keyed (Argon2id, computed once per process and epoch); a draft begun just before
        the epoch turned moves to it."""
        now = self.clock()
        pseudonym = await self.store.chats.current(chat_id, now=now)
        earlier = await self.store.chats.previous(chat_id, now=now, within=self.draft_ttl)
        if earlier is not None:
            # The chat's rows only.
            async with self.store.transaction(durable=False, brief=True) as session:
                await carry_draft_over(session=session, keyring=self.store.keyring,
                                       source=earlier, target=pseudonym, now=now)
        return pseudonym

    async def chat_pseudonyms(self, chat_id: int | str) -> list[str]:
        """The chat's pseudonym in every epoch whose rows may still be needed, current
        first: the wipe deletes messages up to 48 hours old."""
        return await self.store.chats.live(chat_id, now=self.clock())

    async def locale_of(self, pseudonym: str) -> str:
        async with self.store.transaction(brief=True) as session:
            return await get_locale(session=session, pseudonym=pseudonym) or self.default_locale

    async def handle(
        self,
        *,
        pseudonym: str,
        event: Event | Upload | Offer,
        update_id: int | None = None,
        chat_id: int | None = None,
    ) -> Turn:
        """Applies one event; a confirmed report is committed before its receipt is returned."""
        now = self.clock()
        try:
            turn = await self._turn(pseudonym, event, update_id, chat_id, now)
        except Exception as error:
            # Event and content stay out of the log; the type is enough to investigate.
            log.error("conversation step failed: %s", type(error).__name__)
            self.count_update("failed")
            return Turn(State(locale=self.default_locale), [Reply(Msg(MSG_SUBMIT_FAILED))])
        self.count_update(turn.outcome)
        return turn

    async def _turn(
        self, pseudonym: str, event: Event | Upload | Offer, update_id: int | None,
        chat_id: int | None, now: datetime,
    ) -> Turn:
        """One update: a plain step (no effect, no file, no submission) in one transaction
        of the chat's rows; otherwise in separate transactions: the chat's bookkeeping and
        draft, then whatever a report needs (alone), then the chat's draft again.

        No transaction writes both a row keyed by the chat and a row of a report: on
        PostgreSQL they would share a transaction id (`xmin`), on SQLite one commit, and
        either links a report to the chat's pseudonym (tests/bot/test_transactions.py).
        """
        advanced: tuple[State, list[Reply]] | None = None
        async with self.store.transaction(durable=False, brief=True) as session:
            if update_id is not None and not await claim_update(
                session=session, update_id=update_id, now=now
            ):
                return Turn(State(), duplicate=True)
            attempts = await count_attempt(
                session=session, key=f"{pseudonym}:messages", window=timedelta(minutes=1),
                now=now,
            )
            found = await open_draft(
                session=session, keyring=self.store.keyring, pseudonym=pseudonym, now=now
            )
            raw = found.state
            saved_locale = await get_locale(session=session, pseudonym=pseudonym)
            before = State.from_json(raw) if raw else State(
                locale=saved_locale or self.default_locale
            )
            stale = isinstance(event, Pick) and event.step not in (None, before.step)
            if attempts > MESSAGES_PER_MINUTE:
                slow = [Reply(Msg(MSG_SLOW_DOWN))] if attempts == MESSAGES_PER_MINUTE + 1 else []
                return Turn(before, slow, throttled=True)
            refusal: Msg | None = None
            if isinstance(event, Upload | Offer):
                if wants_file(self.flow, before, _kind(event)):
                    refusal = await self._file_quota(session, pseudonym, _size(event), now)
            else:
                state, replies = advanced = advance(self.flow, before, event)
                if state.pending is None and state.status != "submitted":
                    # A plain step: its draft is kept in this same transaction.
                    if found.expired:
                        replies = [self._expired_notice(), *replies]
                    turn = Turn(state, replies, stale=stale)
                    await self._keep(session, pseudonym, turn, saved_locale, now)
                    return self._ended(turn)
        if isinstance(event, Upload | Offer):
            kind, size = _kind(event), _size(event)
            if refusal is not None:
                return Turn(before, [Reply(refusal), *self._ask_again(before)])
            if not wants_file(self.flow, before, kind):
                # The step answers for itself (not here, or its cap reached): nothing fetched.
                event = FileSent(kind, "", size)
            else:
                file = event.file if isinstance(event, Upload) else await event.fetch()
                if isinstance(file, Msg):
                    return Turn(before, [Reply(file)])
                async with self.store.transaction(durable=False) as session:  # the chat's rows only
                    ref = await put_draft_attachment(
                        session=session, keyring=self.store.keyring, pseudonym=pseudonym,
                        file=file, now=now, ttl=self.draft_ttl,
                    )
                meta = file.meta
                event = FileSent(str(meta["kind"]), ref, int(meta["size"]), str(meta["mime"]))

        state, replies = advanced or advance(self.flow, before, event)
        files_used = acted = False
        while state.pending is not None and state.status == "active":
            data, used = await self._run_effect(pseudonym, state.pending, now)
            files_used, acted = files_used or used, True
            state, more = advance(self.flow, state, Result(state.pending.name, data))
            replies += more

        if found.expired and not (state.pending is not None
                                  and state.pending.name == "wipe_chat"):
            replies = [self._expired_notice(), *replies]
        turn = Turn(state, replies, stale=stale)
        if state.status == "submitted":
            turn = await self._submit(pseudonym, state, replies, chat_id, now)
            files_used = True
        # Once a report (or a reply, a request) is in, the draft that follows it is flushed
        # to disk like it: after a power cut the person must not find it waiting to be sent.
        async with self.store.transaction(durable=acted or state.status == "submitted",
                                          brief=True) as session:
            await self._keep(session, pseudonym, turn, saved_locale, now,
                             files_used=files_used, advanced=state)
        return self._ended(turn, state)

    async def _keep(
        self, session: Any, pseudonym: str, turn: Turn, saved_locale: str | None,
        now: datetime, *, files_used: bool = False, advanced: State | None = None,
    ) -> None:
        """The chat's rows after a turn: its language, its draft (kept, or gone once the
        report is sent or the conversation cancelled) and the draft's files.

        `advanced` is the state the flow reached; `turn.state` differs from it only when
        a submission failed (the draft is then kept, to try again)."""
        state = advanced or turn.state
        if state.locale != (saved_locale or self.default_locale):
            await set_locale(session=session, pseudonym=pseudonym, locale=state.locale)
        if files_used or state.status == "cancelled":
            await discard_draft_attachments(session=session, pseudonym=pseudonym)
        if state.status == "cancelled" or (
            state.status == "submitted" and turn.state.status == "submitted"
        ):
            await delete_draft(session=session, pseudonym=pseudonym)
        else:
            await save_draft(
                session=session, keyring=self.store.keyring, pseudonym=pseudonym,
                state_json=turn.state.to_json(), now=now, ttl=self.draft_ttl,
                unfinished=unfinished_report(turn.state),
            )

    @staticmethod
    def _ended(turn: Turn, advanced: State | None = None) -> Turn:
        """A cancelled conversation says whether it was cancelled to wipe the chat."""
        state = advanced or turn.state
        if state.status == "cancelled":
            return replace(turn, wipe=state.pending is not None
                           and state.pending.name == "wipe_chat")
        return turn

    async def _file_quota(
        self, session: Any, pseudonym: str, size: int, now: datetime
    ) -> Msg | None:
        """Why a file the current question would take cannot be fetched, if it cannot: too
        large, too many this hour, or too much for one report. Counts it otherwise."""
        if size > MAX_ATTACHMENT_BYTES:
            return Msg(MSG_TOO_LARGE, {"megabytes": MAX_ATTACHMENT_BYTES // 2**20})
        hour = timedelta(hours=1)
        files = await count_attempt(session=session, key=f"{pseudonym}:files", window=hour,
                                    now=now)
        kib = await count_attempt(session=session, key=f"{pseudonym}:file-kib", window=hour,
                                  now=now, amount=-(-size // 1024))
        if files > FILES_PER_HOUR or kib > FILE_KIB_PER_HOUR:
            log.info("file refused: hourly quota")
            return Msg(MSG_FILES_THIS_HOUR)
        kept = await draft_attachment_bytes(session=session, pseudonym=pseudonym)
        if kept + size > DRAFT_FILE_BYTES:
            log.info("file refused: draft quota")
            return Msg(MSG_FILES_THIS_REPORT, {"megabytes": DRAFT_FILE_BYTES // 2**20})
        return None

    def _expired_notice(self) -> Reply:
        minutes = int(self.draft_ttl.total_seconds() // 60)
        return Reply(Msg(MSG_DRAFT_EXPIRED, {"minutes": minutes}))

    def _ask_again(self, state: State) -> tuple[Reply, ...]:
        if state.step is None or state.step not in self.flow.steps:
            return ()
        return self.flow.step(state.step).ask(state)

    async def _run_effect(
        self, pseudonym: str, effect: Effect, now: datetime
    ) -> tuple[dict[str, Any], bool]:
        """Runs an effect in transactions of its own; also says whether it used (and so
        consumed) the chat's files."""
        if effect.name == "check_receipt":
            async with self.store.transaction(brief=True) as session:
                attempts = await count_attempt(
                    session=session, key=f"{pseudonym}:receipt", window=RECEIPT_WINDOW, now=now
                )
            if attempts > RECEIPT_ATTEMPTS:
                log.info("receipt check rate-limited")
                return {"outcome": "rate_limited"}, False
            async with self.store.transaction() as session:  # reads only
                opened = await open_with_receipt(
                    session=session, keyring=self.store.keyring,
                    code=str(effect.params["code"]),
                )
                if opened is None:
                    return {"outcome": "not_found"}, False
                case = await case_view(session=session, opened=opened)
            locale = str(effect.params.get("locale") or self.default_locale)
            messages = [{"from": m.author, "text": m.text, "day": _day(m.at, locale)}
                        for m in case.messages]
            referral = ({"entity": case.referral[0], "reference": case.referral[1]}
                        if case.referral else None)
            return {"outcome": "found", "status": case.status, "kind": case.kind,
                    "referral": referral, "messages": messages,
                    "access": followup_handle(opened)}, False
        if effect.name in ("reply_to_team", "request_protection", "revoke_news", "add_evidence"):
            async with self.store.transaction() as session:  # the report's rows only
                opened = await open_followup_handle(session=session,
                                                    handle=str(effect.params["access"]))
                if opened is None:
                    return {"ok": False}, False
                if effect.name == "reply_to_team":
                    await reporter_replies(session=session, keyring=self.store.keyring,
                                           opened=opened,
                                           text=str(effect.params["text"]), now=now)
                elif effect.name == "request_protection":
                    await request_protection(session=session, keyring=self.store.keyring,
                                             opened=opened, request=effect.params["request"],
                                             now=now)
                elif effect.name == "revoke_news":
                    await revoke_contact(session=session, opened=opened, now=now)
                else:
                    files = await read_draft_attachments(
                        session=session, keyring=self.store.keyring, pseudonym=pseudonym,
                        refs=[str(effect.params["ref"])],
                    )
                    await add_reporter_evidence(session=session, keyring=self.store.keyring,
                                                opened=opened, files=files, now=now)
            return {"ok": True}, effect.name == "add_evidence"
        if effect.name == "local_lines":
            async with self.store.transaction(brief=True) as session:
                lines = await lines_for(
                    session=session, municipality_code=str(effect.params["municipality"])
                )
            return {"lines": [{"name": line.name, "number": line.number}
                              for line in lines]}, False
        raise ValueError(f"unknown effect {effect.name!r}")

    async def _submit(
        self, pseudonym: str, state: State, replies: list[Reply], chat_id: int | None,
        now: datetime,
    ) -> Turn:
        """Commits the report in a transaction of its own (the chat's files are only read
        here); returns the state to keep as the draft: the receipt's own buttons (wipe
        the chat, back to the menu) belong to the after-report step."""
        submission = confirmed_report(state)
        with_receipt = submission.kind != "priority"
        # Its Argon2id before the transaction: on SQLite the transaction holds the only
        # write lock, and every other chat's step would wait behind it.
        made = await make_receipt(self.store.receipt_argon2) if with_receipt else None
        refs = _attachment_refs(submission.answers)
        # Brief: the report's rows; its files, if any, go on the driver's thread (heavy_ahead).
        async with self.store.transaction(brief=True) as session:
            files = await read_draft_attachments(
                session=session, keyring=self.store.keyring, pseudonym=pseudonym,
                refs=refs,
            )
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
                argon2_params=self.store.receipt_argon2,
                with_receipt=with_receipt,
                receipt=made,
                files=files,
                # Kept (sealed) only when the person said yes to news in this chat.
                contact_chat_id=chat_id if submission.answers.get("notify") == "yes" else None,
            )
            if submission.category == PROTECTION_REQUEST:
                await protection_request_report(
                    session=session, report_id=submitted.report_id,
                    data_key=submitted.data_key, request=protection_request(submission.answers),
                    now=now,
                )
        if submitted.receipt_code is None:
            return Turn(state, [*replies, *priority_thanks_replies()])
        receipt = receipt_replies(format_receipt_code(submitted.receipt_code),
                                  urgency=submission.urgency, promise=self.promise)
        return Turn(after_report_state(state.locale), [*replies, *receipt])


def _day(moment: datetime, locale: str) -> str:
    """The day of a message in the person's language, "2 de diciembre": the day on the
    Colombian calendar, never the hour (the reporter's own times are kept to the hour)."""
    return format_skeleton("MMMMd", moment.astimezone(BOGOTA).date(),
                           locale=locale if locale in SUPPORTED else DEFAULT_LOCALE)


def _kind(event: Upload | Offer) -> str:
    return str(event.file.meta["kind"]) if isinstance(event, Upload) else event.kind


def _size(event: Upload | Offer) -> int:
    """The file's size; a file whose size Telegram did not say counts as the largest."""
    if isinstance(event, Upload):
        return len(event.file.data)
    return event.size if event.size is not None else MAX_ATTACHMENT_BYTES


def _attachment_refs(answers: Any) -> list[str]:
    """Every file the answers point at: evidence lists and voice notes alike."""
    refs: list[str] = []
    for value in answers.values():
        items = value if isinstance(value, list) else [value]
        refs += [str(item["ref"]) for item in items if isinstance(item, dict) and "ref" in item]
    return refs
