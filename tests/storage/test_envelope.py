from __future__ import annotations

import pytest

from storage import crypto, envelope
from storage.crypto import KEM_HYBRID, KEM_X25519, DecryptionError

REPORT = "rep-0001"


def flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x80
    return bytes(out)


@pytest.fixture(scope="module")
def keys() -> dict[str, tuple[bytes, bytes]]:
    return {
        "focal:ana": crypto.generate_keypair(KEM_HYBRID),
        "receipt": crypto.generate_keypair(KEM_HYBRID),
        "org-recovery": crypto.generate_keypair(KEM_X25519),
    }


TEXT = "hubo un retén".encode()


def seal(keys: dict[str, tuple[bytes, bytes]], plaintext: bytes = TEXT) -> envelope.SealedReport:
    return envelope.seal_report(REPORT, plaintext, {rid: pub for rid, (_, pub) in keys.items()})


def test_every_recipient_can_open(keys: dict[str, tuple[bytes, bytes]]) -> None:
    sealed = seal(keys)
    assert set(sealed.crypto_keys) == set(keys)
    for rid, (private, _) in keys.items():
        data_key = envelope.unwrap_data_key(
            report_id=REPORT,
            recipient_id=rid,
            crypto_key=sealed.crypto_keys[rid],
            private_key=private,
        )
        assert data_key == sealed.data_key
        opened = envelope.open_report(
            report_id=REPORT, crypto_payload=sealed.crypto_payload, data_key=data_key
        )
        assert opened == TEXT


def test_data_key_not_in_repr(keys: dict[str, tuple[bytes, bytes]]) -> None:
    sealed = seal(keys)
    assert sealed.data_key.hex() not in repr(sealed)
    assert repr(sealed.data_key) not in repr(sealed)


def test_padding_hides_description_length(keys: dict[str, tuple[bytes, bytes]]) -> None:
    short, long = seal(keys, b"x" * 10), seal(keys, b"y" * 900)
    assert len(short.crypto_payload) == len(long.crypto_payload)
    assert {len(v) for v in short.crypto_keys.values()} == {
        len(v) for v in long.crypto_keys.values()
    }


def test_flipped_byte_anywhere_in_payload_fails(keys: dict[str, tuple[bytes, bytes]]) -> None:
    sealed = seal(keys)
    for index in range(len(sealed.crypto_payload)):
        with pytest.raises(DecryptionError):
            envelope.open_report(
                report_id=REPORT,
                crypto_payload=flip(sealed.crypto_payload, index),
                data_key=sealed.data_key,
            )


def test_payload_moved_to_other_report_fails(keys: dict[str, tuple[bytes, bytes]]) -> None:
    sealed = seal(keys)
    with pytest.raises(DecryptionError):
        envelope.open_report(
            report_id="rep-0002", crypto_payload=sealed.crypto_payload, data_key=sealed.data_key
        )


@pytest.mark.parametrize("rid", ["focal:ana", "org-recovery"])
def test_flipped_byte_in_wrapped_key_fails(keys: dict[str, tuple[bytes, bytes]], rid: str) -> None:
    sealed = seal(keys)
    wrapped = sealed.crypto_keys[rid]
    for index in (0, 1, 40, len(wrapped) // 2, len(wrapped) - 17, len(wrapped) - 1):
        with pytest.raises(DecryptionError):
            envelope.unwrap_data_key(
                report_id=REPORT,
                recipient_id=rid,
                crypto_key=flip(wrapped, index),
                private_key=keys[rid][0],
            )


def test_wrapped_key_moved_to_other_report_fails(keys: dict[str, tuple[bytes, bytes]]) -> None:
    sealed = seal(keys)
    with pytest.raises(DecryptionError):
        envelope.unwrap_data_key(
            report_id="rep-0002",
            recipient_id="focal:ana",
            crypto_key=sealed.crypto_keys["focal:ana"],
            private_key=keys["focal:ana"][0],
        )


def test_wrapped_key_moved_to_other_recipient_fails() -> None:
    # Same private key under two recipient ids: only the info binding can tell them apart.
    private, public = crypto.generate_keypair()
    sealed = envelope.seal_report(REPORT, b"x", {"focal:ana": public, "focal:beto": public})
    with pytest.raises(DecryptionError):
        envelope.unwrap_data_key(
            report_id=REPORT,
            recipient_id="focal:beto",
            crypto_key=sealed.crypto_keys["focal:ana"],
            private_key=private,
        )


def test_wrong_private_key_fails(keys: dict[str, tuple[bytes, bytes]]) -> None:
    sealed = seal(keys)
    with pytest.raises(DecryptionError):
        envelope.unwrap_data_key(
            report_id=REPORT,
            recipient_id="focal:ana",
            crypto_key=sealed.crypto_keys["focal:ana"],
            private_key=keys["receipt"][0],
        )


def test_wrap_info_binds_version_report_and_recipient() -> None:
    info = envelope.wrap_info("r1", "u1")
    assert info == b"somos/v1/report-key\x00r1\x00u1"
    assert envelope.ENVELOPE_VERSION == 1
    with pytest.raises(ValueError):
        envelope.wrap_info("r1\x00u1", "")
    with pytest.raises(ValueError):
        envelope.wrap_info("", "u1")


def test_no_recipients_refused() -> None:
    with pytest.raises(ValueError):
        envelope.seal_report(REPORT, b"x", {})


def test_rewrap_for_new_recipient(keys: dict[str, tuple[bytes, bytes]]) -> None:
    sealed = seal(keys)
    private, public = crypto.generate_keypair()
    wrapped = envelope.rewrap_data_key(
        report_id=REPORT, data_key=sealed.data_key, recipient_id="focal:carla", public_key=public
    )
    assert (
        envelope.unwrap_data_key(
            report_id=REPORT, recipient_id="focal:carla", crypto_key=wrapped, private_key=private
        )
        == sealed.data_key
    )


def test_items_bound_to_report_and_purpose(keys: dict[str, tuple[bytes, bytes]]) -> None:
    data_key = seal(keys).data_key
    blob = envelope.encrypt_with_data_key(
        report_id=REPORT, data_key=data_key, plaintext=b"nota", purpose="note"
    )
    assert (
        envelope.decrypt_with_data_key(
            report_id=REPORT, data_key=data_key, ciphertext=blob, purpose="note"
        )
        == b"nota"
    )
    assert len(blob) == len(
        envelope.encrypt_with_data_key(
            report_id=REPORT, data_key=data_key, plaintext=b"n" * 500, purpose="note"
        )
    )
    for report_id, purpose in (("rep-0002", "note"), (REPORT, "message")):
        with pytest.raises(DecryptionError):
            envelope.decrypt_with_data_key(
                report_id=report_id, data_key=data_key, ciphertext=blob, purpose=purpose
            )
    with pytest.raises(DecryptionError):
        envelope.decrypt_with_data_key(
            report_id=REPORT, data_key=data_key, ciphertext=flip(blob, 30), purpose="note"
        )


def test_item_blob_is_not_a_payload(keys: dict[str, tuple[bytes, bytes]]) -> None:
    data_key = seal(keys).data_key
    blob = envelope.encrypt_with_data_key(
        report_id=REPORT, data_key=data_key, plaintext=b"nota", purpose="payload"
    )
    with pytest.raises(DecryptionError):
        envelope.open_report(report_id=REPORT, crypto_payload=blob, data_key=data_key)
