"""Tables. Clear columns are only what routing, triage and aggregates need.

Everything a reporter wrote, and every exact time, lives inside `crypto_*`
columns. Primary keys of reports are random UUIDs, never sequences, so ids do
not reveal order or volume.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def floor_minute(moment: datetime) -> datetime:
    """Times kept in clear beside a chat's pseudonym are kept to the minute at most: the
    second a chat was active could be matched against a phone's network records."""
    return moment.replace(second=0, microsecond=0)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(*, index: bool = False, nullable: bool = False) -> Any:
    return Field(sa_column=sa.Column(UTCDateTime(), index=index, nullable=nullable))


def _blob(*, nullable: bool = False) -> Any:
    return Field(sa_column=sa.Column(sa.LargeBinary(), nullable=nullable))


class Report(SQLModel, table=True):
    __tablename__ = "reports"
    # The queue's order (storage.reports.list_queue): its first page is read from the index
    # instead of sorting every row (317 → under 1 ms at 100,000 reports on PostgreSQL).
    __table_args__ = (
        sa.Index("ix_reports_queue_order", sa.text("new_reply DESC"), "urgency_rank",
                 "created_hour", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    kind: str = Field(index=True, max_length=32)
    category: str = Field(max_length=64)
    department_code: str = Field(index=True, max_length=2)
    municipality_code: str = Field(index=True, max_length=5)
    urgency: str = Field(max_length=16)
    # 0 immediate, 1 high, 2 normal: the queue sorts on it.
    urgency_rank: int = Field(index=True)
    status: str = Field(default="new", index=True, max_length=16)
    assigned_to: str | None = Field(default=None, foreign_key="users.id", max_length=36)
    # Coarse triage facts for follow-up and aggregates; reference numbers stay encrypted.
    referred_to: str | None = Field(default=None, max_length=32)
    # A referral saved before the entity gave its filing number: the case and its queue
    # card remind the team until someone writes it (storage.triage.add_reference).
    reference_pending: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean(), nullable=False, server_default=sa.false())
    )
    closing_reason: str | None = Field(default=None, max_length=32)
    # Rounded to the hour: an exact timestamp can identify who was where.
    created_hour: datetime = _when(index=True)
    # Random 32-bit key for cell-key perturbation (storage.cellkey): drawn at submission,
    # never derived from the reporter; rollups keep its sum per cell.
    record_key: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    due_at: datetime = _when()
    # Receipt columns are empty for community-priority answers, which have no receipt.
    receipt_lookup: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(8), index=True, nullable=True)
    )
    receipt_salt: bytes | None = _blob(nullable=True)
    # Argon2 parameters of the receipt verifier, so the cost can rise for new reports.
    receipt_kdf: bytes | None = _blob(nullable=True)
    crypto_receipt_verifier: bytes | None = _blob(nullable=True)
    crypto_payload: bytes | None = _blob(nullable=True)
    # The reporter's chat id, sealed, only if they consented to news; gone when the case closes.
    crypto_contact: bytes | None = _blob(nullable=True)
    escalated_at: datetime | None = _when(nullable=True)
    payload_purged_at: datetime | None = _when(nullable=True)
    # The reporter wrote (a reply, evidence, a protection request) and nobody working the
    # case has opened it since. A flag, not a time: the event's own hour is all it dates.
    new_reply: bool = Field(
        default=False,
        sa_column=sa.Column(sa.Boolean(), nullable=False, server_default=sa.false()),
    )


class ReportKey(SQLModel, table=True):
    """The report's data key wrapped (HPKE) for one recipient."""

    __tablename__ = "report_keys"
    __table_args__ = (sa.UniqueConstraint("report_id", "recipient_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    report_id: str = Field(
        sa_column=sa.Column(
            sa.String(36), sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False
        )
    )
    # "user" (a focal point), "receipt" (the reporter) or "recovery" (the organization).
    recipient_kind: str = Field(max_length=16)
    recipient_id: str = Field(index=True, max_length=64)
    crypto_key: bytes = _blob()


class ChatEpoch(SQLModel, table=True):
    """A day of chat pseudonyms: its pepper (sealed with the server key) salts the Argon2id
    that names every chat seen in it. Deleted, with every row keyed under it, once nothing
    keyed by it can still be needed (`storage.epochs`)."""

    __tablename__ = "chat_epochs"

    id: str = Field(primary_key=True, max_length=16)
    starts_at: datetime = _when()
    crypto_pepper: bytes = _blob()


class Draft(SQLModel, table=True):
    """A conversation in progress, keyed by the chat's epoch pseudonym, sealed with the
    server key."""

    __tablename__ = "drafts"

    pseudonym: str = Field(primary_key=True, max_length=64)
    crypto_state: bytes = _blob()
    expires_at: datetime = _when(index=True)


class Attachment(SQLModel, table=True):
    """Evidence of a report (metadata already stripped), encrypted with the report's data key."""

    __tablename__ = "attachments"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    report_id: str = Field(
        sa_column=sa.Column(
            sa.String(36), sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False,
            index=True,
        )
    )
    crypto_meta: bytes = _blob()
    crypto_blob: bytes = _blob()


class ReportEvent(SQLModel, table=True):
    """A note, a message to or from the reporter, or a status change, under the data key."""

    __tablename__ = "report_events"
    __table_args__ = (sa.UniqueConstraint("report_id", "seq"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    report_id: str = Field(
        sa_column=sa.Column(
            sa.String(36), sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False,
            index=True,
        )
    )
    seq: int
    # storage.triage.EVENT_KINDS: "note", "to_reporter", "from_reporter", "status", …
    kind: str = Field(max_length=16)
    # Staff user id, or "reporter". Times of reporter events are rounded to the hour.
    actor: str = Field(max_length=64)
    at: datetime = _when()
    crypto_body: bytes = _blob()


class DraftAttachment(SQLModel, table=True):
    """A file sent during a conversation, sealed with the server key until the report exists."""

    __tablename__ = "draft_attachments"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    pseudonym: str = Field(index=True, max_length=64)
    crypto_blob: bytes = _blob()
    expires_at: datetime = _when(index=True)


class ChatTrace(SQLModel, table=True):
    """The ids of a chat's messages (sealed), so the bot can delete them from the phone."""

    __tablename__ = "chat_traces"

    pseudonym: str = Field(primary_key=True, max_length=64)
    crypto_messages: bytes = _blob()
    # Telegram lets a bot delete messages for 48 hours; after that the list is useless.
    expires_at: datetime = _when(index=True)


class ChatPreference(SQLModel, table=True):
    """The language a chat chose, keyed by its pseudonym. No timestamps: they tell activity."""

    __tablename__ = "chat_preferences"

    pseudonym: str = Field(primary_key=True, max_length=64)
    locale: str = Field(max_length=8)


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids already handled: a redelivered update is processed once."""

    __tablename__ = "processed_updates"

    update_id: int = Field(sa_column=sa.Column(sa.BigInteger(), primary_key=True,
                                               autoincrement=False))
    seen_at: datetime = _when(index=True)


class EmergencyLine(SQLModel, table=True):
    """A municipality's own emergency or protection line (Personería, etc.), editable data."""

    __tablename__ = "emergency_lines"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    municipality_code: str = Field(index=True, max_length=5)
    name: str = Field(max_length=120)
    number: str = Field(max_length=40)


class User(SQLModel, table=True):
    """Staff only. Residents never have an account."""

    __tablename__ = "users"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    username: str = Field(sa_column=sa.Column(sa.String(64), unique=True, nullable=False))
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=255)
    crypto_totp_secret: bytes | None = _blob(nullable=True)
    # The 30-second step of the last code accepted: a code (or an older one) works once.
    totp_last_step: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger(), nullable=True)
    )
    public_key: bytes = _blob()
    crypto_private_key: bytes = _blob()
    # The same private key sealed for the organization recovery key (restores a lost password).
    crypto_private_key_recovery: bytes | None = _blob(nullable=True)
    disabled: bool = Field(default=False)
    created_at: datetime = _when()
    # The staff member's own Telegram chat for content-free pings (sealed), linked by /vincular.
    crypto_telegram_chat: bytes | None = _blob(nullable=True)
    telegram_link_hash: str | None = Field(default=None, max_length=64, index=True)
    telegram_link_expires_at: datetime | None = _when(nullable=True)


class UserArea(SQLModel, table=True):
    """Where a focal point works: a whole department or one municipality."""

    __tablename__ = "user_areas"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    user_id: str = Field(
        sa_column=sa.Column(
            sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
            index=True,
        )
    )
    department_code: str | None = Field(default=None, max_length=2, index=True)
    municipality_code: str | None = Field(default=None, max_length=5, index=True)


class AuthSession(SQLModel, table=True):
    """An API session. The user's private key is kept encrypted under the bearer token."""

    __tablename__ = "auth_sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(
        sa_column=sa.Column(
            sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
            index=True,
        )
    )
    crypto_private_key: bytes = _blob()
    created_at: datetime = _when()
    expires_at: datetime = _when(index=True)
    revoked_at: datetime | None = _when(nullable=True)


class RoutingRule(SQLModel, table=True):
    """(department | municipality | any) × (kind | category | any) × (urgency | any) → user."""

    __tablename__ = "routing_rules"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    department_code: str | None = Field(default=None, max_length=2)
    municipality_code: str | None = Field(default=None, max_length=5)
    kind: str | None = Field(default=None, max_length=32)
    category: str | None = Field(default=None, max_length=64)
    urgency: str | None = Field(default=None, max_length=16)
    user_id: str = Field(
        sa_column=sa.Column(
            sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        )
    )
    created_at: datetime = _when()


class AuditEntry(SQLModel, table=True):
    """Append-only and hash-chained; `detail` holds codes and ids, never content."""

    __tablename__ = "audit_log"

    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = _when()
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    report_id: str | None = Field(default=None, max_length=36, index=True)
    detail: str = Field(default="{}", sa_column=sa.Column(sa.Text(), nullable=False))
    prev_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64)


class PendingAuditEntry(SQLModel, table=True):
    """A reporter's action waiting for the end of its hour to join the audit chain.

    Entries of staff actions keep their exact second; appended in arrival order among
    them, an hour-stamped `report.submitted` would be bracketed to the second by its
    neighbours. Held here, the hour's entries join the chain together after the hour,
    ordered by report id (random), never by arrival (`storage.audit.flush_pending_audit`).
    """

    __tablename__ = "audit_pending"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    at: datetime = _when(index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    report_id: str | None = Field(default=None, max_length=36)
    detail: str = Field(default="{}", sa_column=sa.Column(sa.Text(), nullable=False))


class OutboxMessage(SQLModel, table=True):
    """A notification written in the same transaction as its cause, sent by a worker."""

    __tablename__ = "outbox"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    kind: str = Field(max_length=32)
    # Sealed with the server key while the notification waits; None once it is settled.
    crypto_payload: bytes | None = _blob(nullable=True)
    created_at: datetime = _when()
    next_attempt_at: datetime = _when(index=True)
    attempts: int = Field(default=0)
    sent_at: datetime | None = _when(nullable=True)
    last_error: str | None = Field(default=None, max_length=255)


class Alert(SQLModel, table=True):
    """An early warning: a place's reports of one kind (or category) rose unusually in a
    window against its own past (`storage.early_warning`, `storage.alerts`)."""

    __tablename__ = "alerts"
    __table_args__ = (sa.Index("ix_alerts_place_window", "municipality_code", "kind",
                               "window_start"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    municipality_code: str = Field(max_length=5)
    department_code: str = Field(max_length=2, index=True)
    kind: str = Field(max_length=32)
    # None: the whole kind.
    category: str | None = Field(default=None, max_length=64)
    window_start: datetime = _when()
    window_end: datetime = _when()
    # Reports in the window, and in the baseline windows before it together.
    observed: int
    baseline: int
    baseline_windows: int
    p_value: float
    # The same two counts perturbed by their reports' cell key (storage.cellkey): what an
    # analyst is shown, and only when both pass suppression.
    observed_perturbed: int
    baseline_perturbed: int
    created_at: datetime = _when(index=True)
    acknowledged_at: datetime | None = _when(nullable=True)
    acknowledged_by: str | None = Field(default=None, foreign_key="users.id", max_length=36)
    # The acknowledging person's note, sealed with the server key.
    crypto_note: bytes | None = _blob(nullable=True)


class Rollup(SQLModel, table=True):
    """Counts by municipality × kind × category × month, updated with each report.

    The finest grain; the coarser rollup tables below are sums of it, kept so a
    query reads about as many rows as it returns (`storage.aggregates`).
    """

    __tablename__ = "rollups"

    municipality_code: str = Field(primary_key=True, max_length=5)
    kind: str = Field(primary_key=True, max_length=32)
    category: str = Field(primary_key=True, max_length=64)
    # Indexed: a window up to the last closed month is read from the year tables less the
    # months after it, which come from here (storage.aggregates._tail).
    month: str = Field(primary_key=True, max_length=7, index=True)
    department_code: str = Field(max_length=2, index=True)
    count: int = Field(default=0)
    # The cell key (storage.cellkey): the reports' record keys summed modulo 2^32.
    key_sum: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False))
    # Sum of the perturbed noise cells counted here: perturb(count, key_sum) for threats and
    # stigma, the sum over rankings (PriorityAnswer) for community priorities.
    perturbed: int = Field(default=0)


class DepartmentMonthRollup(SQLModel, table=True):
    """The rollups summed by department × kind × month (same transaction)."""

    __tablename__ = "rollups_department_month"

    department_code: str = Field(primary_key=True, max_length=2)
    kind: str = Field(primary_key=True, max_length=32)
    month: str = Field(primary_key=True, max_length=7)
    count: int = Field(default=0)
    perturbed: int = Field(default=0)


class DepartmentCategoryMonthRollup(SQLModel, table=True):
    """The rollups summed by department × kind × category × month (same transaction)."""

    __tablename__ = "rollups_department_category_month"

    department_code: str = Field(primary_key=True, max_length=2)
    kind: str = Field(primary_key=True, max_length=32)
    category: str = Field(primary_key=True, max_length=64)
    month: str = Field(primary_key=True, max_length=7)
    count: int = Field(default=0)
    perturbed: int = Field(default=0)


class MunicipalityYearRollup(SQLModel, table=True):
    """The rollups summed by municipality × kind × year (same transaction)."""

    __tablename__ = "rollups_municipality_year"

    municipality_code: str = Field(primary_key=True, max_length=5)
    kind: str = Field(primary_key=True, max_length=32)
    year: str = Field(primary_key=True, max_length=4)
    department_code: str = Field(max_length=2)
    count: int = Field(default=0)
    perturbed: int = Field(default=0)


class MunicipalityCategoryYearRollup(SQLModel, table=True):
    """The rollups summed by municipality × kind × category × year (same transaction)."""

    __tablename__ = "rollups_municipality_category_year"

    municipality_code: str = Field(primary_key=True, max_length=5)
    kind: str = Field(primary_key=True, max_length=32)
    category: str = Field(primary_key=True, max_length=64)
    year: str = Field(primary_key=True, max_length=4)
    department_code: str = Field(max_length=2)
    count: int = Field(default=0)
    perturbed: int = Field(default=0)


class PriorityTally(SQLModel, table=True):
    """How often each concern was ranked 1st, 2nd or 3rd, by municipality and month."""

    __tablename__ = "priority_tallies"

    municipality_code: str = Field(primary_key=True, max_length=5)
    month: str = Field(primary_key=True, max_length=7)
    concern: str = Field(primary_key=True, max_length=64)
    rank: int = Field(primary_key=True)
    department_code: str = Field(max_length=2, index=True)
    count: int = Field(default=0)
    perturbed: int = Field(default=0)


class PriorityAnswer(SQLModel, table=True):
    """Community-priority answers by municipality × month × whole ranking: their noise cell.

    A ranking is its concerns, most important first, joined by commas; the first is the
    report's category. Rollups and tallies of priority answers add up these cells'
    perturbed values, so every published priority number comes from one noise per cell.
    """

    __tablename__ = "priority_answers"

    municipality_code: str = Field(primary_key=True, max_length=5)
    month: str = Field(primary_key=True, max_length=7)
    ranking: str = Field(primary_key=True, max_length=200)
    department_code: str = Field(max_length=2)
    count: int = Field(default=0)
    key_sum: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False))
    perturbed: int = Field(default=0)


class RateLimit(SQLModel, table=True):
    __tablename__ = "rate_limits"

    key: str = Field(primary_key=True, max_length=96)
    window_start: datetime = _when()
    count: int = Field(default=0)


class Meta(SQLModel, table=True):
    """Installation facts: the organization recovery public key, its id."""

    __tablename__ = "somos_meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
