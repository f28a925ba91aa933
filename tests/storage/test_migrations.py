"""The Alembic history matches the models, and upgrading is idempotent."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage.migrate import current_revision, head_revision, upgrade
from storage.store import Store


async def test_schema_is_at_head_and_upgrade_again_changes_nothing(store: Store) -> None:
    assert await current_revision(store.engine) == head_revision()
    assert await upgrade(store.engine) is False


async def test_migrations_match_the_models(store: Store) -> None:
    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, SQLModel.metadata))

    async with store.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


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
