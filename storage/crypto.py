"""Small cryptographic facade: one function per primitive, nothing clever.

Every function that authenticates or parses secret data raises `DecryptionError`
on failure, so callers have a single exception to handle and nothing leaks through
error messages. Keys and ciphertexts are self-describing (a 1-byte tag) so that a
key pair generated today can still be used after the default KEM changes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import unicodedata
from dataclasses import dataclass
from typing import ClassVar, Final

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nacl import bindings as sodium
from nacl.exceptions import RuntimeError as SodiumError

KEM_HYBRID: Final = "mlkem768-x25519"
KEM_X25519: Final = "x25519"

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
SALT_BYTES: Final = 16

_MLKEM_SEED = 64
_MLKEM_PUBLIC = 1184
_X25519_LEN = 32

_TAGS: Final[dict[str, int]] = {KEM_HYBRID: 0x01, KEM_X25519: 0x02}
_KEMS_BY_TAG: Final[dict[int, str]] = {tag: kem for kem, tag in _TAGS.items()}
_PRIVATE_LEN: Final = {KEM_HYBRID: _MLKEM_SEED + _X25519_LEN, KEM_X25519: _X25519_LEN}
_PUBLIC_LEN: Final = {KEM_HYBRID: _MLKEM_PUBLIC + _X25519_LEN, KEM_X25519: _X25519_LEN}
_SUITES: Final[dict[str, hpke.Suite]] = {
    KEM_HYBRID: hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
    KEM_X25519: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
}

_PAD_MIN = 1024
_PAD_STEP = 64 * 1024
_LEN_PREFIX = struct.Struct(">I")

_PARAMS = struct.Struct(">III")
_PASSWORD_BLOB_VERSION = 1
_PASSWORD_HEADER_LEN = 1 + _PARAMS.size + SALT_BYTES


class DecryptionError(Exception):
    """Authentication failed or the input was malformed; never carries key material."""

    def __init__(self, message: str = "no se pudo descifrar") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class Argon2Params:
    """Argon2id cost parameters (memory_cost in KiB)."""

    time_cost: int
    memory_cost: int
    parallelism: int

    # Upper bounds exist because params are read back from stored blobs: a row
    # edited to ask for terabytes of memory must fail, not take the server down.
    MAX_TIME_COST: ClassVar[int] = 32
    MAX_MEMORY_COST: ClassVar[int] = 1024 * 1024
    MAX_PARALLELISM: ClassVar[int] = 16

    def __post_init__(self) -> None:
        if not (
            1 <= self.time_cost <= self.MAX_TIME_COST
            and 1 <= self.parallelism <= self.MAX_PARALLELISM
            and 8 * self.parallelism <= self.memory_cost <= self.MAX_MEMORY_COST
        ):
            raise ValueError("parámetros de Argon2id fuera de rango")

    def to_bytes(self) -> bytes:
        """Serialize as 12 big-endian bytes (t, m, p), for storing next to a hash."""
        return _PARAMS.pack(self.time_cost, self.memory_cost, self.parallelism)

    @classmethod
    def from_bytes(cls, data: bytes) -> Argon2Params:
        """Parse `to_bytes` output; raises DecryptionError if malformed or out of range."""
        try:
            return cls(*_PARAMS.unpack(data))
        except (struct.error, ValueError):
            raise DecryptionError("parámetros de Argon2id inválidos") from None


DEFAULT_ARGON2: Final = Argon2Params(time_cost=3, memory_cost=64 * 1024, parallelism=1)
FAST_ARGON2: Final = Argon2Params(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def random_key() -> bytes:
    """Return 32 random bytes from the OS CSPRNG (an AES-256 / HMAC key)."""
    return os.urandom(KEY_BYTES)


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256."""
    return hmac.new(key, message, hashlib.sha256).digest()


def hkdf_sha256(secret: bytes, *, info: bytes, length: int, salt: bytes | None = None) -> bytes:
    """HKDF-SHA256 (RFC 5869) extract-and-expand."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)


def aes_gcm_encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM with a random 96-bit nonce prepended to the ciphertext."""
    if len(key) != KEY_BYTES:
        raise ValueError("AES-256-GCM necesita una clave de 32 bytes")
    # Random nonces are safe here: no single key comes near the 2**32 messages limit.
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def aes_gcm_decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """AES-256-GCM decryption of `aes_gcm_encrypt` output."""
    if len(key) != KEY_BYTES or len(blob) < NONCE_BYTES + 16:
        raise DecryptionError()
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag:
        raise DecryptionError() from None


def _bucket(size: int) -> int:
    if size <= _PAD_STEP:
        return max(_PAD_MIN, 1 << (size - 1).bit_length())
    return -(-size // _PAD_STEP) * _PAD_STEP


def pad(data: bytes) -> bytes:
    """Length-prefix and zero-pad to a bucket: 1-64 KiB powers of two, then 64 KiB steps."""
    if len(data) > 0xFFFFFFFF - _LEN_PREFIX.size:
        raise ValueError("datos demasiado grandes para rellenar")
    framed = _LEN_PREFIX.pack(len(data)) + data
    return framed + bytes(_bucket(len(framed)) - len(framed))


def unpad(data: bytes) -> bytes:
    """Inverse of `pad`; raises DecryptionError on a malformed frame."""
    if len(data) < _LEN_PREFIX.size:
        raise DecryptionError("relleno inválido")
    (length,) = _LEN_PREFIX.unpack_from(data)
    end = _LEN_PREFIX.size + length
    if end > len(data) or any(data[end:]):
        raise DecryptionError("relleno inválido")
    return data[_LEN_PREFIX.size : end]


def argon2id(
    secret: bytes, salt: bytes, *, length: int = KEY_BYTES, params: Argon2Params = DEFAULT_ARGON2
) -> bytes:
    """Argon2id (RFC 9106, version 1.3) raw hash of `secret`.

    One lane and a 16-byte salt (every hash Somos makes now) go through libsodium, whose
    vectorized code gives the same bytes in about 0.55 of the CPU of argon2-cffi's (bench/
    RESULTS.md): an attacker uses the fastest code there is, so a slower one made us pay
    without costing a guesser anything. Other parameters (older blobs) use argon2-cffi."""
    t, m, p = params.time_cost, params.memory_cost, params.parallelism
    try:
        if p == 1 and len(salt) == sodium.crypto_pwhash_SALTBYTES:
            return bytes(sodium.crypto_pwhash_alg(
                length, secret, salt, t, m * 1024, sodium.crypto_pwhash_ALG_ARGON2ID13))
        return hash_secret_raw(secret, salt, t, m, p, length, Type.ID)
    except (HashingError, SodiumError, ValueError, TypeError) as exc:
        raise ValueError("Argon2id rechazó los parámetros o la sal") from exc


def _password_bytes(password: str) -> bytes:
    # NFC so that "ñ" typed on a phone and on a laptop derive the same key.
    return unicodedata.normalize("NFC", password).encode("utf-8")


def seal_with_password(
    password: str, secret: bytes, *, params: Argon2Params = DEFAULT_ARGON2
) -> bytes:
    """Encrypt `secret` under Argon2id(password) with AES-256-GCM; self-describing blob."""
    salt = os.urandom(SALT_BYTES)
    header = bytes([_PASSWORD_BLOB_VERSION]) + params.to_bytes() + salt
    key = argon2id(_password_bytes(password), salt, params=params)
    # The header is the AAD so params or salt cannot be swapped silently.
    return header + aes_gcm_encrypt(key, secret, header)


def open_with_password(password: str, sealed: bytes) -> bytes:
    """Decrypt a `seal_with_password` blob; wrong password -> DecryptionError."""
    header = sealed[:_PASSWORD_HEADER_LEN]
    if len(header) != _PASSWORD_HEADER_LEN or header[0] != _PASSWORD_BLOB_VERSION:
        raise DecryptionError()
    params = Argon2Params.from_bytes(header[1 : 1 + _PARAMS.size])
    key = argon2id(_password_bytes(password), header[1 + _PARAMS.size :], params=params)
    return aes_gcm_decrypt(key, sealed[_PASSWORD_HEADER_LEN:], header)


def _kem_tag(kem: str) -> int:
    try:
        return _TAGS[kem]
    except KeyError:
        raise ValueError(f"KEM desconocido: {kem!r}") from None


def _split(key: bytes, lengths: dict[str, int]) -> tuple[str, bytes]:
    kem = _KEMS_BY_TAG.get(key[0]) if key else None
    if kem is None or len(key) != 1 + lengths[kem]:
        raise DecryptionError("clave malformada")
    return kem, key[1:]


_PrivateParts = tuple[mlkem.MLKEM768PrivateKey | None, x25519.X25519PrivateKey]


def _private_parts(kem: str, raw: bytes) -> _PrivateParts:
    xkey = x25519.X25519PrivateKey.from_private_bytes(raw[-_X25519_LEN:])
    if kem == KEM_X25519:
        return None, xkey
    return mlkem.MLKEM768PrivateKey.from_seed_bytes(raw[:_MLKEM_SEED]), xkey


def _serialize(kem: str, parts: _PrivateParts) -> tuple[bytes, bytes]:
    mkey, xkey = parts
    tag = bytes([_kem_tag(kem)])
    private, public = tag, tag
    if mkey is not None:
        private += mkey.private_bytes_raw()
        public += mkey.public_key().public_bytes_raw()
    return private + xkey.private_bytes_raw(), public + xkey.public_key().public_bytes_raw()


def generate_keypair(kem: str = KEM_HYBRID) -> tuple[bytes, bytes]:
    """New (private, public) HPKE key pair: ML-KEM-768+X25519 hybrid or X25519."""
    _kem_tag(kem)
    # Random ML-KEM seed (d || z) and X25519 scalar, same as the libraries' generate().
    return _serialize(kem, _private_parts(kem, os.urandom(_PRIVATE_LEN[kem])))


def keypair_from_seed(seed: bytes, kem: str = KEM_HYBRID) -> tuple[bytes, bytes]:
    """Deterministic (private, public) key pair from a >=32-byte seed via HKDF-SHA256."""
    if len(seed) < 32:
        raise ValueError("la semilla debe tener al menos 32 bytes")
    _kem_tag(kem)
    raw = hkdf_sha256(seed, info=b"somos/v1/keypair\x00" + kem.encode(), length=_PRIVATE_LEN[kem])
    return _serialize(kem, _private_parts(kem, raw))


def public_key_of(private_key: bytes) -> bytes:
    """Recompute the serialized public key for a serialized private key."""
    kem, raw = _split(private_key, _PRIVATE_LEN)
    return _serialize(kem, _private_parts(kem, raw))[1]


def key_kem(key: bytes) -> str:
    """Name of the KEM a serialized public or private key belongs to."""
    kem = _KEMS_BY_TAG.get(key[0]) if key else None
    if kem is None or len(key) - 1 not in (_PRIVATE_LEN[kem], _PUBLIC_LEN[kem]):
        raise DecryptionError("clave malformada")
    return kem


def hpke_seal(public_key: bytes, plaintext: bytes, info: bytes) -> bytes:
    """HPKE base mode (RFC 9180), HKDF-SHA256 + AES-256-GCM, KEM from the key's tag."""
    kem, raw = _split(public_key, _PUBLIC_LEN)
    pub: hpke.MLKEM768X25519PublicKey | x25519.X25519PublicKey
    try:
        pub = x25519.X25519PublicKey.from_public_bytes(raw[-_X25519_LEN:])
        if kem == KEM_HYBRID:
            mpub = mlkem.MLKEM768PublicKey.from_public_bytes(raw[:_MLKEM_PUBLIC])
            pub = hpke.MLKEM768X25519PublicKey(mpub, pub)
    except ValueError:
        raise DecryptionError("clave malformada") from None
    return bytes([_TAGS[kem]]) + _SUITES[kem].encrypt(plaintext, pub, info=info)


def hpke_open(private_key: bytes, ciphertext: bytes, info: bytes) -> bytes:
    """Open an `hpke_seal` ciphertext; wrong key, info or any tampering -> DecryptionError."""
    kem, raw = _split(private_key, _PRIVATE_LEN)
    if not ciphertext or ciphertext[0] != _TAGS[kem]:
        raise DecryptionError()
    mkey, xkey = _private_parts(kem, raw)
    priv = xkey if mkey is None else hpke.MLKEM768X25519PrivateKey(mkey, xkey)
    try:
        return _SUITES[kem].decrypt(ciphertext[1:], priv, info=info)
    except (InvalidTag, ValueError):
        raise DecryptionError() from None
