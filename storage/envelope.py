"""Per-report envelope: one random data key per report, wrapped for each recipient.

The payload is padded, then AES-256-GCM encrypted under the data key; the data key
is HPKE-wrapped to every recipient public key (focal points, the reporter's receipt
key, the organization recovery key). Every ciphertext is bound to the report id,
and every wrapped key also to its recipient id, so copying a blob to another row
makes it fail to open instead of silently decrypting in the wrong context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from storage import crypto
from storage.crypto import DecryptionError

__all__ = [
    "ENVELOPE_VERSION",
    "DecryptionError",
    "SealedReport",
    "decrypt_with_data_key",
    "encrypt_with_data_key",
    "open_report",
    "rewrap_data_key",
    "seal_report",
    "unwrap_data_key",
    "wrap_info",
]

ENVELOPE_VERSION: Final = 1
_PREFIX: Final = f"somos/v{ENVELOPE_VERSION}/".encode()


@dataclass(frozen=True)
class SealedReport:
    """Columns to store for a new report, plus its data key (never store that)."""

    crypto_payload: bytes
    crypto_keys: dict[str, bytes]
    # Returned only so notes/messages written in the same transaction can reuse it.
    data_key: bytes = field(repr=False)


def _field(name: str, value: str) -> bytes:
    # A NUL inside an id would make two different (report, recipient) pairs
    # produce the same HPKE info / AAD bytes.
    if not value or "\x00" in value:
        raise ValueError(f"{name} vacío o con un carácter NUL")
    return value.encode("utf-8")


def wrap_info(report_id: str, recipient_id: str) -> bytes:
    """HPKE info for a wrapped data key: format version, report id and recipient id."""
    rid = _field("report_id", report_id)
    return _PREFIX + b"report-key\x00" + rid + b"\x00" + _field("recipient_id", recipient_id)


def _payload_aad(report_id: str) -> bytes:
    return _PREFIX + b"report-payload\x00" + _field("report_id", report_id)


def _item_aad(report_id: str, purpose: str) -> bytes:
    rid = _field("report_id", report_id)
    return _PREFIX + b"report-item\x00" + rid + b"\x00" + _field("purpose", purpose)


def rewrap_data_key(
    *, report_id: str, data_key: bytes, recipient_id: str, public_key: bytes
) -> bytes:
    """HPKE-wrap a report's data key for one recipient (e.g. a newly assigned focal point)."""
    if len(data_key) != crypto.KEY_BYTES:
        raise ValueError("la clave de datos debe tener 32 bytes")
    return crypto.hpke_seal(public_key, data_key, wrap_info(report_id, recipient_id))


def seal_report(report_id: str, plaintext: bytes, recipients: Mapping[str, bytes]) -> SealedReport:
    """Pad and AES-256-GCM encrypt a report under a fresh data key wrapped per recipient."""
    if not recipients:
        # A report nobody can open is a lost report; fail before anything is stored.
        raise ValueError("un reporte necesita al menos un destinatario")
    data_key = crypto.random_key()
    payload = crypto.aes_gcm_encrypt(data_key, crypto.pad(plaintext), _payload_aad(report_id))
    keys = {
        recipient_id: rewrap_data_key(
            report_id=report_id, data_key=data_key, recipient_id=recipient_id, public_key=pub
        )
        for recipient_id, pub in recipients.items()
    }
    return SealedReport(crypto_payload=payload, crypto_keys=keys, data_key=data_key)


def unwrap_data_key(
    *, report_id: str, recipient_id: str, crypto_key: bytes, private_key: bytes
) -> bytes:
    """Open a recipient's HPKE-wrapped data key; any mismatch raises DecryptionError."""
    data_key = crypto.hpke_open(private_key, crypto_key, wrap_info(report_id, recipient_id))
    if len(data_key) != crypto.KEY_BYTES:
        raise DecryptionError()
    return data_key


def open_report(*, report_id: str, crypto_payload: bytes, data_key: bytes) -> bytes:
    """Decrypt (AES-256-GCM) and unpad a report payload."""
    return crypto.unpad(crypto.aes_gcm_decrypt(data_key, crypto_payload, _payload_aad(report_id)))


def encrypt_with_data_key(
    *, report_id: str, data_key: bytes, plaintext: bytes, purpose: str
) -> bytes:
    """AES-256-GCM encrypt a later item (note, message) bound to report id and purpose."""
    # Padded too: a reporter's follow-up message is as revealing as the description.
    aad = _item_aad(report_id, purpose)
    return crypto.aes_gcm_encrypt(data_key, crypto.pad(plaintext), aad)


def decrypt_with_data_key(
    *, report_id: str, data_key: bytes, ciphertext: bytes, purpose: str
) -> bytes:
    """Decrypt an `encrypt_with_data_key` item; wrong report or purpose -> DecryptionError."""
    aad = _item_aad(report_id, purpose)
    return crypto.unpad(crypto.aes_gcm_decrypt(data_key, ciphertext, aad))
