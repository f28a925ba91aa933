"""Receipt codes: the only thing a reporter keeps to follow up on a report.

A code is 16 random digits (about 53 bits). The database holds a peppered lookup
(to find the row), an Argon2id-based verifier and the reporter's public key; the
code itself, and the private key derived from it, are never stored.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass, field
from typing import Final

from storage import crypto
from storage.crypto import KEM_HYBRID, Argon2Params
from storage.keyfile import Keyring

RECEIPT_DIGITS: Final = 16
RECEIPT_SALT_BYTES: Final = 16
# Separators people type or paste: spaces (incl. NBSP), ASCII and Unicode dashes, dots.
_SEPARATORS: Final = frozenset(" \t\u00a0\u202f-\u2010\u2011\u2012\u2013\u2014.")

# A receipt's cost, sized for its entropy (docs/THREAT_MODEL.md §1–2): OWASP's smallest
# Argon2id profile, about 10 ms of hashing with libsodium's code, a seventh of a staff
# password's (DEFAULT_ARGON2). A thief holding the pepper still tries ~10^10 codes per report
# (53 bits behind a 20-bit bucket), about three core-years; the weakest staff password
# allowed (zxcvbn 3, ~10^8 guesses) falls at the full cost in about a quarter of a
# core-year. Recorded per report, so older reports keep verifying at the cost they were made
# with.
RECEIPT_ARGON2: Final = Argon2Params(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# Nobody types a synthetic receipt (`somos demo seed`), so its Argon2 can be nearly free;
# the parameters are recorded per report, so verification still works for these codes.
DEMO_ARGON2: Final = Argon2Params(time_cost=1, memory_cost=256, parallelism=1)


@dataclass(frozen=True)
class ReceiptSecrets:
    """Derived from a receipt code: store `verifier` and `public_key`, never `private_key`."""

    verifier: bytes = field(repr=False)
    private_key: bytes = field(repr=False)
    public_key: bytes


def new_receipt_code() -> str:
    """16 uniformly random decimal digits from `secrets` (leading zeros allowed)."""
    return f"{secrets.randbelow(10**RECEIPT_DIGITS):0{RECEIPT_DIGITS}d}"


def new_receipt_salt() -> bytes:
    """A random 16-byte salt for `derive_receipt_secrets`."""
    return os.urandom(RECEIPT_SALT_BYTES)


def normalize_receipt_code(text: str) -> str | None:
    """Strip separators; return the 16 ASCII digits, or None if it is not a receipt code."""
    digits = "".join(ch for ch in text.strip() if ch not in _SEPARATORS)
    if len(digits) != RECEIPT_DIGITS or not all("0" <= ch <= "9" for ch in digits):
        return None
    return digits


def _require(code: str) -> str:
    normalized = normalize_receipt_code(code)
    if normalized is None:
        # Deliberately does not echo the input: it may be a real receipt code.
        raise ValueError("código de recibo inválido")
    return normalized


def format_receipt_code(code: str) -> str:
    """Show a code as four groups of four digits: '1234 5678 9012 3456'."""
    digits = _require(code)
    return " ".join(digits[i : i + 4] for i in range(0, RECEIPT_DIGITS, 4))


# 20 bits: a bucket holds about one report per million, so a right code costs about one
# Argon2 check; but someone holding the database and the pepper cannot tell a right code
# by its HMAC alone: ~10^10 codes share each bucket, and each must pay for Argon2.
RECEIPT_BUCKET_HEX = 5


def receipt_lookup(keyring: Keyring, code: str, *, pepper_id: str | None = None) -> str:
    """Indexed bucket: the first 20 bits of HMAC-SHA256(pepper, code), scope 'receipt'."""
    return keyring.pseudonym(_require(code), "receipt", pepper_id=pepper_id)[:RECEIPT_BUCKET_HEX]


def receipt_buckets(keyring: Keyring, code: str) -> tuple[str, ...]:
    """The buckets a code may be in, under the current and the older peppers."""
    return tuple(
        dict.fromkeys(p[:RECEIPT_BUCKET_HEX] for p in
                      keyring.pseudonym_candidates(_require(code), "receipt"))
    )


def derive_receipt_secrets(
    code: str,
    salt: bytes,
    *,
    params: Argon2Params = RECEIPT_ARGON2,
    kem: str = KEM_HYBRID,
) -> ReceiptSecrets:
    """Argon2id over the code, then HKDF-SHA256 into a verifier and a key-pair seed."""
    master = crypto.argon2id(_require(code).encode("ascii"), salt, params=params)
    # Independent HKDF outputs: the stored verifier says nothing about the private key.
    verifier = crypto.hkdf_sha256(master, info=b"somos/v1/receipt/verifier", length=32)
    seed = crypto.hkdf_sha256(master, info=b"somos/v1/receipt/key-seed", length=64)
    private_key, public_key = crypto.keypair_from_seed(seed, kem)
    return ReceiptSecrets(verifier=verifier, private_key=private_key, public_key=public_key)


def verify_receipt(
    code: str,
    salt: bytes,
    verifier: bytes,
    params: Argon2Params = RECEIPT_ARGON2,
    *,
    kem: str = KEM_HYBRID,
) -> ReceiptSecrets | None:
    """Re-derive from a typed code; the secrets if the verifier matches, else None."""
    if normalize_receipt_code(code) is None:
        return None
    derived = derive_receipt_secrets(code, salt, params=params, kem=kem)
    if not hmac.compare_digest(derived.verifier, verifier):
        return None
    return derived
