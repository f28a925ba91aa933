"""API sessions: opaque bearer tokens, stored hashed; the unlocked private key rides inside.

The private key is re-encrypted under a key derived from the token, which only
the client holds: a copy of the database alone cannot unlock any staff key.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import crypto
from storage.models import AuthSession, User, utcnow


@dataclass(frozen=True)
class OpenSession:
    user: User
    private_key: bytes = field(repr=False)
    token_hash: str = field(repr=False)
    created_at: datetime | None = None
    expires_at: datetime | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _session_key(token: str) -> bytes:
    """HKDF-SHA256 of the bearer token: the key that seals the session's private key."""
    return crypto.hkdf_sha256(token.encode(), info=b"somos/v1/session-key", length=32)


def csrf_token(token: str) -> str:
    """The CSRF token of a web session's forms: derived from the session token with HKDF,
    so only the browser that holds the token can know it."""
    key = crypto.hkdf_sha256(token.encode(), info=b"somos/v1/csrf", length=24)
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


async def create_session(
    *, session: AsyncSession, user: User, private_key: bytes, lifetime: timedelta,
    now: datetime | None = None,
) -> str:
    """Opens a session and returns its bearer token (shown to the client only)."""
    token = secrets.token_urlsafe(32)
    digest = token_hash(token)
    now = now or utcnow()
    session.add(
        AuthSession(
            token_hash=digest,
            user_id=user.id,
            crypto_private_key=crypto.aes_gcm_encrypt(
                _session_key(token), private_key, digest.encode()
            ),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    await session.flush()
    return token


async def resolve_session(
    *, session: AsyncSession, token: str, now: datetime | None = None
) -> OpenSession | None:
    """The live session behind a token, or None (unknown, expired, revoked, user disabled)."""
    digest = token_hash(token)
    row = (
        await session.exec(
            select(AuthSession, User)
            .join(User, col(User.id) == col(AuthSession.user_id))
            .where(col(AuthSession.token_hash) == digest)
        )
    ).first()
    if row is None:
        return None
    auth, user = row
    if auth.revoked_at is not None or auth.expires_at <= (now or utcnow()) or user.disabled:
        return None
    try:
        private_key = crypto.aes_gcm_decrypt(
            _session_key(token), auth.crypto_private_key, digest.encode()
        )
    except crypto.DecryptionError:
        return None
    return OpenSession(user=user, private_key=private_key, token_hash=digest,
                       created_at=auth.created_at, expires_at=auth.expires_at)


async def extend_session(
    *, session: AsyncSession, opened: OpenSession, now: datetime, idle: timedelta,
    lifetime: timedelta,
) -> datetime:
    """Slides an idle timeout: the session lives `idle` past this use, never past
    `lifetime` from its start. Returns the new expiry."""
    if opened.created_at is None:
        raise ValueError("a session resolved from the database has a start time")
    expires_at = min(now + idle, opened.created_at + lifetime)
    await session.exec(
        update(AuthSession).where(col(AuthSession.token_hash) == opened.token_hash)
        .values(expires_at=expires_at)
    )
    return expires_at


async def revoke_session(*, session: AsyncSession, token_hash: str) -> None:
    """Ends one session (logout)."""
    await session.exec(
        update(AuthSession)
        .where(col(AuthSession.token_hash) == token_hash, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


async def revoke_sessions(*, session: AsyncSession, user_id: str) -> None:
    await session.exec(
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
