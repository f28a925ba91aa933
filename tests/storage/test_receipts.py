from __future__ import annotations

import hmac
import re

import pytest

from storage import crypto, envelope
from storage.crypto import FAST_ARGON2
from storage.keyfile import Keyring
from storage.receipts import (
    derive_receipt_secrets,
    format_receipt_code,
    new_receipt_code,
    new_receipt_salt,
    normalize_receipt_code,
    receipt_lookup,
    verify_receipt,
)

CODE = "1234567890123456"


def test_new_codes_are_16_digits_and_random() -> None:
    codes = {new_receipt_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(re.fullmatch(r"[0-9]{16}", c) for c in codes)


def test_format_in_groups_of_four() -> None:
    assert format_receipt_code(CODE) == "1234 5678 9012 3456"
    assert format_receipt_code("0000000000000001") == "0000 0000 0000 0001"
    with pytest.raises(ValueError):
        format_receipt_code("123")


@pytest.mark.parametrize(
    "text",
    [
        "1234-5678 9012.3456",
        "1234 5678 9012 3456",
        " 1234567890123456\n",
        "1234\u00a05678–9012-3456",
    ],
)
def test_normalize_accepts_separators(text: str) -> None:
    assert normalize_receipt_code(text) == CODE


@pytest.mark.parametrize(
    "text",
    ["", "123456789012345", "12345678901234567", "1234 5678 9012 345a", "١٢٣٤567890123456"],
)
def test_normalize_rejects_non_codes(text: str) -> None:
    assert normalize_receipt_code(text) is None


def test_lookup_is_stable_and_ignores_formatting() -> None:
    keyring = Keyring.generate()
    assert receipt_lookup(keyring, CODE) == receipt_lookup(keyring, "1234 5678 9012 3456")
    assert receipt_lookup(keyring, CODE) == keyring.pseudonym(CODE, "receipt")[:5]
    # A bucket, not an identifier: many codes share it, so only Argon2 tells them apart.
    assert len(receipt_lookup(keyring, CODE)) == 5


def test_derive_and_verify() -> None:
    salt = new_receipt_salt()
    secrets_ = derive_receipt_secrets(CODE, salt, params=FAST_ARGON2)
    assert len(secrets_.verifier) == 32
    assert crypto.public_key_of(secrets_.private_key) == secrets_.public_key
    assert secrets_.verifier not in secrets_.private_key
    assert secrets_.private_key.hex() not in repr(secrets_)
    again = verify_receipt("1234 5678 9012 3456", salt, secrets_.verifier, FAST_ARGON2)
    assert again == secrets_
    assert hmac.compare_digest(again.verifier, secrets_.verifier)


def test_wrong_code_or_salt_does_not_match() -> None:
    salt = new_receipt_salt()
    secrets_ = derive_receipt_secrets(CODE, salt, params=FAST_ARGON2)
    assert verify_receipt("1234567890123457", salt, secrets_.verifier, FAST_ARGON2) is None
    assert verify_receipt(CODE, new_receipt_salt(), secrets_.verifier, FAST_ARGON2) is None
    assert verify_receipt("not a code", salt, secrets_.verifier, FAST_ARGON2) is None
    other = derive_receipt_secrets("1234567890123457", salt, params=FAST_ARGON2)
    assert other.verifier != secrets_.verifier
    assert other.public_key != secrets_.public_key


def test_receipt_key_opens_the_report() -> None:
    salt = new_receipt_salt()
    at_submit = derive_receipt_secrets(CODE, salt, params=FAST_ARGON2)
    sealed = envelope.seal_report("rep-9", b"texto", {"receipt": at_submit.public_key})
    later = verify_receipt(format_receipt_code(CODE), salt, at_submit.verifier, FAST_ARGON2)
    assert later is not None
    data_key = envelope.unwrap_data_key(
        report_id="rep-9",
        recipient_id="receipt",
        crypto_key=sealed.crypto_keys["receipt"],
        private_key=later.private_key,
    )
    opened = envelope.open_report(
        report_id="rep-9", crypto_payload=sealed.crypto_payload, data_key=data_key
    )
    assert opened == b"texto"
