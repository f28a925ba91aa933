"""Everything storage needs at run time, built once by the composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import crypto
from storage.db import SessionFactory, create_engine, create_session_factory, transaction
from storage.epochs import ChatPseudonyms
from storage.keyfile import Keyring, keyring_from_env, load_or_create_keyring
from storage.receipts import RECEIPT_ARGON2


@dataclass(frozen=True)
class Store:
    engine: AsyncEngine
    sessions: SessionFactory
    keyring: Keyring
    argon2: crypto.Argon2Params  # staff passwords
    receipt_argon2: crypto.Argon2Params  # receipt codes (storage.receipts.RECEIPT_ARGON2)
    # This process's chat pseudonyms (slow to compute, so kept in memory for a while).
    chats: ChatPseudonyms

    @asynccontextmanager
    async def transaction(
        self, *, durable: bool = True, brief: bool = False
    ) -> AsyncIterator[AsyncSession]:
        async with transaction(self.sessions, durable=durable, brief=brief) as session:
            yield session

    async def close(self) -> None:
        await self.engine.dispose()


def open_store(
    *,
    database_url: str,
    key_file: Path,
    keys_from_env: str | None = None,
    fast_kdf: bool = False,
) -> Store:
    """Opens the engine and the key ring (creating the key file, 0600, if missing)."""
    if keys_from_env:
        keyring = keyring_from_env(keys_from_env)
    else:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        keyring, _created = load_or_create_keyring(key_file)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    return Store(
        engine=engine,
        sessions=sessions,
        keyring=keyring,
        argon2=crypto.FAST_ARGON2 if fast_kdf else crypto.DEFAULT_ARGON2,
        receipt_argon2=crypto.FAST_ARGON2 if fast_kdf else RECEIPT_ARGON2,
        chats=ChatPseudonyms(sessions=sessions, keyring=keyring),
    )
