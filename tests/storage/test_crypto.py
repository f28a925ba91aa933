from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import crypto
from storage.crypto import FAST_ARGON2, KEM_HYBRID, KEM_X25519, Argon2Params, DecryptionError
from tests.support.fuzzing import examples

KEMS = [KEM_HYBRID, KEM_X25519]


def flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


@pytest.mark.parametrize("kem", KEMS)
def test_keypair_sizes_are_self_described(kem: str) -> None:
    private, public = crypto.generate_keypair(kem)
    expected = {KEM_HYBRID: (1 + 64 + 32, 1 + 1184 + 32), KEM_X25519: (33, 33)}[kem]
    assert (len(private), len(public)) == expected
    assert crypto.key_kem(private) == crypto.key_kem(public) == kem
    assert crypto.public_key_of(private) == public


def test_unknown_kem_rejected() -> None:
    with pytest.raises(ValueError):
        crypto.generate_keypair("rsa")
    with pytest.raises(ValueError):
        crypto.keypair_from_seed(b"s" * 32, "rsa")


@pytest.mark.parametrize("kem", KEMS)
def test_hpke_round_trip(kem: str) -> None:
    private, public = crypto.generate_keypair(kem)
    ct = crypto.hpke_seal(public, b"data key", b"info")
    assert crypto.hpke_open(private, ct, b"info") == b"data key"


@pytest.mark.parametrize("kem", KEMS)
def test_hpke_rejects_wrong_info_key_and_tampering(kem: str) -> None:
    private, public = crypto.generate_keypair(kem)
    other_private, _ = crypto.generate_keypair(kem)
    ct = crypto.hpke_seal(public, b"secret", b"info")
    with pytest.raises(DecryptionError):
        crypto.hpke_open(private, ct, b"other info")
    with pytest.raises(DecryptionError):
        crypto.hpke_open(other_private, ct, b"info")
    for index in (1, len(ct) // 2, len(ct) - 1):
        with pytest.raises(DecryptionError):
            crypto.hpke_open(private, flip(ct, index), b"info")
    for bad in (b"", ct[:1], ct[:-1], flip(ct, 0)):
        with pytest.raises(DecryptionError):
            crypto.hpke_open(private, bad, b"info")


def test_hpke_key_of_other_kem_fails() -> None:
    hybrid_private, _ = crypto.generate_keypair(KEM_HYBRID)
    _, x_public = crypto.generate_keypair(KEM_X25519)
    ct = crypto.hpke_seal(x_public, b"secret", b"info")
    with pytest.raises(DecryptionError):
        crypto.hpke_open(hybrid_private, ct, b"info")


def test_malformed_keys_raise_decryption_error() -> None:
    private, public = crypto.generate_keypair()
    for bad in (b"", b"\x09" + private[1:], private[:-1]):
        with pytest.raises(DecryptionError):
            crypto.hpke_open(bad, b"\x01" + b"x" * 1200, b"")
    with pytest.raises(DecryptionError):
        crypto.hpke_seal(public[:-1], b"x", b"")
    with pytest.raises(DecryptionError):
        crypto.key_kem(b"\x01abc")


@pytest.mark.parametrize("kem", KEMS)
def test_keypair_from_seed_is_deterministic(kem: str) -> None:
    seed = bytes(range(64))
    assert crypto.keypair_from_seed(seed, kem) == crypto.keypair_from_seed(seed, kem)
    assert crypto.keypair_from_seed(seed, kem) != crypto.keypair_from_seed(seed[::-1], kem)
    private, public = crypto.keypair_from_seed(seed, kem)
    assert crypto.hpke_open(private, crypto.hpke_seal(public, b"m", b"i"), b"i") == b"m"
    with pytest.raises(ValueError):
        crypto.keypair_from_seed(b"short", kem)


def test_aes_gcm_round_trip_and_failures() -> None:
    key = crypto.random_key()
    blob = crypto.aes_gcm_encrypt(key, b"hola", b"aad")
    assert crypto.aes_gcm_decrypt(key, blob, b"aad") == b"hola"
    assert crypto.aes_gcm_encrypt(key, b"hola", b"aad") != blob  # fresh nonce
    for index in range(len(blob)):
        with pytest.raises(DecryptionError):
            crypto.aes_gcm_decrypt(key, flip(blob, index), b"aad")
    with pytest.raises(DecryptionError):
        crypto.aes_gcm_decrypt(key, blob, b"other")
    with pytest.raises(DecryptionError):
        crypto.aes_gcm_decrypt(crypto.random_key(), blob, b"aad")
    with pytest.raises(DecryptionError):
        crypto.aes_gcm_decrypt(key, blob[:20], b"aad")
    with pytest.raises(DecryptionError):
        crypto.aes_gcm_decrypt(b"short", blob, b"aad")
    with pytest.raises(ValueError):
        crypto.aes_gcm_encrypt(b"short", b"x", b"")


def test_hmac_sha256_known_answer() -> None:
    # RFC 4231 test case 2.
    mac = crypto.hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert mac.hex().startswith("5bdcc146bf60754e6a042426089575c7")


@pytest.mark.parametrize(
    ("size", "padded"),
    [(0, 1024), (10, 1024), (900, 1024), (1020, 1024), (1021, 2048), (70_000, 131_072)],
)
def test_pad_buckets(size: int, padded: int) -> None:
    assert len(crypto.pad(b"a" * size)) == padded


def test_pad_buckets_above_64k_are_multiples_of_64k() -> None:
    assert len(crypto.pad(b"a" * 200_000)) == 4 * 65536


@settings(database=None, max_examples=examples(200))
@given(st.binary(max_size=5000))
def test_pad_unpad_round_trip(data: bytes) -> None:
    assert crypto.unpad(crypto.pad(data)) == data


@pytest.mark.parametrize(
    "bad",
    [b"", b"\x00\x00\x00", b"\x00\x00\x00\x10abc", b"\x00\x00\x00\x01a\x01"],
)
def test_unpad_rejects_malformed(bad: bytes) -> None:
    with pytest.raises(DecryptionError):
        crypto.unpad(bad)


def test_argon2id_is_deterministic_and_salted() -> None:
    a = crypto.argon2id(b"pw", b"s" * 16, params=FAST_ARGON2)
    assert len(a) == 32
    assert a == crypto.argon2id(b"pw", b"s" * 16, params=FAST_ARGON2)
    assert a != crypto.argon2id(b"pw", b"t" * 16, params=FAST_ARGON2)
    assert len(crypto.argon2id(b"pw", b"s" * 16, length=64, params=FAST_ARGON2)) == 64


def test_argon2_params_validation_and_serialization() -> None:
    assert Argon2Params.from_bytes(FAST_ARGON2.to_bytes()) == FAST_ARGON2
    with pytest.raises(ValueError):
        Argon2Params(time_cost=0, memory_cost=8192, parallelism=1)
    with pytest.raises(ValueError):
        Argon2Params(time_cost=1, memory_cost=1 << 30, parallelism=1)
    with pytest.raises(DecryptionError):
        Argon2Params.from_bytes(b"\x00" * 12)
    with pytest.raises(DecryptionError):
        Argon2Params.from_bytes(b"\x00" * 3)


def test_password_seal_round_trip() -> None:
    sealed = crypto.seal_with_password("contraseña larga", b"staff key", params=FAST_ARGON2)
    assert crypto.open_with_password("contraseña larga", sealed) == b"staff key"
    # NFC and NFD spellings of "ñ" are the same password.
    assert crypto.open_with_password("contrasen\u0303a larga", sealed) == b"staff key"


def test_password_seal_failures() -> None:
    sealed = crypto.seal_with_password("correcta", b"staff key", params=FAST_ARGON2)
    with pytest.raises(DecryptionError) as info:
        crypto.open_with_password("incorrecta", sealed)
    assert "staff key" not in str(info.value)
    for index in (0, 5, 20, len(sealed) - 1):
        with pytest.raises(DecryptionError):
            crypto.open_with_password("correcta", flip(sealed, index))
    with pytest.raises(DecryptionError):
        crypto.open_with_password("correcta", sealed[:10])


def test_password_seal_refuses_absurd_stored_params() -> None:
    sealed = crypto.seal_with_password("pw", b"k", params=FAST_ARGON2)
    huge_memory = sealed[:5] + (0xFFFFFFFF).to_bytes(4, "big") + sealed[9:]
    with pytest.raises(DecryptionError):
        crypto.open_with_password("pw", huge_memory)
