"""The Alembic history matches the models, and upgrading is idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel, select

from api.demo import seed
from storage.aggregates import priority_rankings
from storage.migrate import alembic_config, current_revision, head_revision, upgrade
from storage.models import (
    ChatEpoch,
    ChatPreference,
    ChatTrace,
    Draft,
    DraftAttachment,
    OutboxMessage,
    RateLimit,
    Report,
)
from storage.recount import compare_rollups
from storage.store import Store


async def test_schema_is_at_head_and_upgrade_again_changes_nothing(store: Store) -> None:
    assert await current_revision(store.engine) == head_revision()
    assert await upgrade(store.engine) is False


QUEUE_INDEX = "ix_reports_queue_order"


async def test_migrations_match_the_models(store: Store) -> None:
    sqlite = store.engine.dialect.name == "sqlite"

    def compared(obj: object, name: str | None, kind: str, *_: object) -> bool:
        # SQLite's reflection cannot read a key's DESC: the next test reads that index.
        return not (sqlite and kind == "index" and name == QUEUE_INDEX)

    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={  # type: ignore[arg-type]
            "compare_type": True, "include_object": compared})
        return list(compare_metadata(context, SQLModel.metadata))

    async with store.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_the_queue_is_read_in_the_order_of_its_index(store: Store) -> None:
    """The queue's first page comes from an index in its own order (marked cases first),
    not from sorting every report (bench/triage.py)."""
    async with store.engine.connect() as connection:
        if store.engine.dialect.name == "sqlite":
            rows = (await connection.exec_driver_sql(
                f"PRAGMA index_xinfo('{QUEUE_INDEX}')")).all()
            keys = [(row[2], row[3]) for row in rows if row[5]]  # name, desc; key columns
            assert keys == [("new_reply", 1), ("urgency_rank", 0), ("created_hour", 0),
                            ("id", 0)]
        else:
            definition = (await connection.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                {"name": QUEUE_INDEX},
            )).scalar_one()
            assert "(new_reply DESC, urgency_rank, created_hour, id)" in definition


async def test_no_table_has_a_column_for_telegram_identity(store: Store) -> None:
    def columns(connection: object) -> set[str]:
        inspector = inspect(connection)
        return {
            column["name"]
            for table in inspector.get_table_names()
            for column in inspector.get_columns(table)
        }

    async with store.engine.connect() as connection:
        names = await connection.run_sync(columns)
    forbidden = {"chat_id", "telegram_id", "user_id_telegram", "username_telegram", "first_name",
                 "last_name", "phone", "phone_number"}
    assert names & forbidden == set()


async def test_upgrading_keeps_only_hours_on_settled_notifications(store: Store) -> None:
    exact = datetime(2026, 11, 28, 15, 42, 17, 123456, tzinfo=UTC)
    async with store.engine.begin() as connection:
        await connection.run_sync(lambda c: command.downgrade(alembic_config(c), "0003"))
    async with store.transaction() as session:
        session.add(OutboxMessage(id="sent", kind="new_report", crypto_payload=b"x",
                                  created_at=exact, next_attempt_at=exact, sent_at=exact))
        session.add(OutboxMessage(id="waiting", kind="new_report", crypto_payload=b"x",
                                  created_at=exact, next_attempt_at=exact))
    assert await upgrade(store.engine) is True
    hour = exact.replace(minute=0, second=0, microsecond=0)
    async with store.transaction() as session:
        sent = await session.get(OutboxMessage, "sent")
        waiting = await session.get(OutboxMessage, "waiting")
    assert sent is not None and waiting is not None
    assert (sent.created_at, sent.next_attempt_at, sent.sent_at) == (hour, hour, hour)
    assert waiting.created_at == exact and waiting.next_attempt_at == exact  # still to send


async def test_upgrading_forgets_rows_keyed_by_the_fast_chat_pseudonym(store: Store) -> None:
    """Those names are a keyed hash of the chat id that the key file reverses in core-hours;
    the slow pseudonyms of chat epochs cannot find them anyway."""
    fast = store.keyring.pseudonym(7_100_000_001, "chat")
    async with store.engine.begin() as connection:
        await connection.run_sync(lambda c: command.downgrade(alembic_config(c), "0004"))
    later = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
    async with store.transaction() as session:
        session.add(Draft(pseudonym=fast, crypto_state=b"x", expires_at=later))
        session.add(DraftAttachment(pseudonym=fast, crypto_blob=b"x", expires_at=later))
        session.add(ChatTrace(pseudonym=fast, crypto_messages=b"x", expires_at=later))
        session.add(ChatPreference(pseudonym=fast, locale="en"))
        for key in (f"{fast}:messages", f"{fast}:receipt", "login:ana", "password:u1"):
            session.add(RateLimit(key=key, window_start=later, count=1))
    assert await upgrade(store.engine) is True
    async with store.transaction() as session:
        for model in (Draft, DraftAttachment, ChatTrace, ChatPreference):
            assert (await session.exec(select(model))).all() == []
        limits = (await session.exec(select(RateLimit.key))).all()
        assert sorted(limits) == ["login:ana", "password:u1"]
        assert (await session.exec(select(ChatEpoch))).all() == []


async def test_upgrading_gives_stored_reports_record_keys_and_rollups_their_noise(
    store: Store,
) -> None:
    await seed(store=store, count=80, departments=("52",), seed_value=3,
               now=datetime(2026, 11, 28, 9, tzinfo=UTC))
    async with store.transaction() as session:
        true_rankings = await priority_rankings(session=session)
    async with store.engine.begin() as connection:
        await connection.run_sync(lambda c: command.downgrade(alembic_config(c), "0004"))
    assert await upgrade(store.engine) is True
    async with store.transaction() as session:
        keys = (await session.exec(select(Report.record_key))).all()
        assert await compare_rollups(session=session) == []
        rankings = await priority_rankings(session=session)
        perturbed = await priority_rankings(session=session, perturbed=True)
    assert len(keys) == 80 and len(set(keys)) > 70  # random, not a default
    # True tallies keep every concern; the perturbed ones count first concerns only for
    # answers stored before the rankings table (the rest is sealed in the reports).
    assert rankings == true_rankings
    assert {r.municipality_code for r in perturbed} <= {r.municipality_code for r in rankings}
    assert all(len(r.concerns) >= 1 for r in perturbed)
