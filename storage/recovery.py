"""The organization recovery key: made once at `somos init`, only its public half kept.

Every report's data key and every staff private key is also sealed for it, so the
offline private half can restore an account that lost its password.
"""

from __future__ import annotations

import base64

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import crypto
from storage.models import Meta
from storage.text import N_

META_RECOVERY_PUBLIC_KEY = "recovery_public_key"
MSG_NOT_INITIALIZED = N_("Somos no está inicializado: ejecute `somos init` primero.")


class RecoveryKeyMissing(LookupError):
    """The installation has no recovery key yet: `somos init` was never run."""

    def __init__(self) -> None:
        super().__init__(MSG_NOT_INITIALIZED)


async def recovery_public_key(*, session: AsyncSession) -> bytes:
    """The public half, to seal for the organization (raises RecoveryKeyMissing)."""
    meta = await session.get(Meta, META_RECOVERY_PUBLIC_KEY)
    if meta is None:
        raise RecoveryKeyMissing()
    return bytes.fromhex(meta.value)


async def create_recovery_key(*, session: AsyncSession) -> bytes | None:
    """Makes the key pair if there is none and returns the private half, to be shown once;
    None when the installation already has one."""
    if await session.get(Meta, META_RECOVERY_PUBLIC_KEY) is not None:
        return None
    private_key, public_key = crypto.generate_keypair()
    session.add(Meta(key=META_RECOVERY_PUBLIC_KEY, value=public_key.hex()))
    await session.flush()
    return private_key


def encode_recovery_key(private_key: bytes) -> str:
    """The private half as `somos init` shows it: one line of base64."""
    return base64.b64encode(private_key).decode()


def decode_recovery_key(text: str) -> bytes:
    """The private half as `somos init` shows it (base64; spaces and line breaks ignored).
    Raises ValueError when it cannot be read."""
    key = base64.b64decode("".join(text.split()), validate=True)
    if not key:
        raise ValueError("empty recovery key")
    return key
