"""Server key file: the server key (drafts, consented contact handles, the peppers of
chat epochs) and the pepper of receipt lookups.

Both live outside the database, so a leaked database dump alone opens no draft and no
chat epoch's pepper (`storage.epochs`), and recomputes no receipt lookup. Every key has
an id so it can be rotated without losing what the old key protected.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import datetime
import json
import os
import re
import secrets
import stat
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from storage import crypto
from storage.crypto import DecryptionError

KEYFILE_VERSION: Final = 1
_ID_RE: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SEAL_VERSION: Final = 1


class KeyFileError(Exception):
    """The key file or variable is missing, unsafe or malformed (message in Spanish)."""


def _new_id(prefix: str, taken: Mapping[str, bytes]) -> str:
    while True:
        day = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
        key_id = f"{prefix}-{day}-{secrets.token_hex(2)}"
        if key_id not in taken:
            return key_id


@dataclasses.dataclass(frozen=True)
class Keyring:
    """Server keys and peppers by id; keys are hidden from repr so they never reach logs."""

    server_keys: Mapping[str, bytes] = dataclasses.field(repr=False)
    current_server_key_id: str
    peppers: Mapping[str, bytes] = dataclasses.field(repr=False)
    current_pepper_id: str

    def __post_init__(self) -> None:
        for name, keys, current in (
            ("server_keys", self.server_keys, self.current_server_key_id),
            ("peppers", self.peppers, self.current_pepper_id),
        ):
            if current not in keys:
                raise KeyFileError(f"falta la clave actual {current!r} en {name}")
            for key_id, key in keys.items():
                if not _ID_RE.fullmatch(key_id) or len(key) != crypto.KEY_BYTES:
                    raise KeyFileError(f"la clave {key_id!r} de {name} no es válida")
            # Read-only views: a keyring shared between requests must not be mutated.
            object.__setattr__(self, name, types.MappingProxyType(dict(keys)))

    @classmethod
    def generate(cls) -> Keyring:
        """A fresh keyring with one random server key and one random pepper."""
        sk, pp = _new_id("sk", {}), _new_id("pp", {})
        return cls({sk: crypto.random_key()}, sk, {pp: crypto.random_key()}, pp)

    def _aad(self, key_id: str, aad: bytes) -> bytes:
        return b"somos/v1/server-seal\x00" + key_id.encode() + b"\x00" + aad

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """AES-256-GCM under the current server key; the blob names its key id."""
        key_id = self.current_server_key_id
        header = bytes([_SEAL_VERSION, len(key_id)]) + key_id.encode()
        key = self.server_keys[key_id]
        return header + crypto.aes_gcm_encrypt(key, plaintext, self._aad(key_id, aad))

    def open(self, blob: bytes, aad: bytes) -> bytes:
        """Open a `seal` blob with whichever server key it names; failure -> DecryptionError."""
        key_id = sealed_key_id(blob)
        end = 2 + blob[1]
        key = self.server_keys.get(key_id)
        if key is None:
            raise DecryptionError("clave del servidor desconocida")
        return crypto.aes_gcm_decrypt(key, blob[end:], self._aad(key_id, aad))

    def pseudonym(self, value: str | int, scope: str, *, pepper_id: str | None = None) -> str:
        """Hex HMAC-SHA256(pepper, scope NUL value) under the current (or named) pepper."""
        if "\x00" in scope:
            raise ValueError("el ámbito no puede contener NUL")
        pepper = self.peppers[pepper_id or self.current_pepper_id]
        return crypto.hmac_sha256(pepper, f"{scope}\x00{value}".encode()).hex()

    def pseudonym_candidates(self, value: str | int, scope: str) -> tuple[str, ...]:
        """Pseudonyms under every pepper, current first, for lookups across a pepper rotation."""
        others = [p for p in self.peppers if p != self.current_pepper_id]
        ids = [self.current_pepper_id, *others]
        return tuple(self.pseudonym(value, scope, pepper_id=p) for p in ids)

    def rotate_server_key(self) -> Keyring:
        """New keyring whose current server key is fresh; old keys stay to open old blobs."""
        key_id = _new_id("sk", self.server_keys)
        keys = {**self.server_keys, key_id: crypto.random_key()}
        return dataclasses.replace(self, server_keys=keys, current_server_key_id=key_id)

    def retire_server_keys(self, keep: set[str]) -> Keyring:
        """A keyring with only the current server key and the ids in `keep`."""
        keys = {k: v for k, v in self.server_keys.items()
                if k == self.current_server_key_id or k in keep}
        return dataclasses.replace(self, server_keys=keys)

    def rotate_pepper(self) -> Keyring:
        """New keyring with a fresh current pepper; old peppers stay for lookups."""
        pepper_id = _new_id("pp", self.peppers)
        peppers = {**self.peppers, pepper_id: crypto.random_key()}
        return dataclasses.replace(self, peppers=peppers, current_pepper_id=pepper_id)

    def to_json(self) -> str:
        """The key file's JSON text (contains secrets)."""
        return json.dumps(
            {
                "version": KEYFILE_VERSION,
                "current_server_key_id": self.current_server_key_id,
                "server_keys": {
                    k: base64.b64encode(v).decode() for k, v in self.server_keys.items()
                },
                "current_pepper_id": self.current_pepper_id,
                "peppers": {k: base64.b64encode(v).decode() for k, v in self.peppers.items()},
            },
            indent=2,
            sort_keys=True,
        )

    def save(self, path: Path) -> None:
        """Atomically write (or replace) the key file with mode 0600."""
        tmp = _write_private_temp(path, self.to_json())
        try:
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def sealed_key_id(blob: bytes) -> str:
    """The server key id a `Keyring.seal` blob names (no key needed, nothing opened)."""
    if len(blob) < 2 or blob[0] != _SEAL_VERSION:
        raise DecryptionError()
    return blob[2 : 2 + blob[1]].decode("ascii", errors="replace")


def _write_private_temp(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL + 0600 at creation: the secrets are never readable by others, not even briefly.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _parse(text: str | bytes, source: str) -> Keyring:
    invalid = f"{source} no es válido"
    try:
        data: Any = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != KEYFILE_VERSION:
            raise KeyFileError("versión desconocida o formato incorrecto")
        keys = {k: base64.b64decode(v, validate=True) for k, v in data["server_keys"].items()}
        peppers = {k: base64.b64decode(v, validate=True) for k, v in data["peppers"].items()}
        current_key, current_pepper = data["current_server_key_id"], data["current_pepper_id"]
        return Keyring(keys, current_key, peppers, current_pepper)
    except KeyFileError as exc:
        raise KeyFileError(f"{invalid}: {exc}") from None
    # The underlying errors are dropped on purpose: they could quote key material.
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise KeyFileError(f"{invalid}: JSON o base64 incorrecto") from None


def load_keyring(path: Path) -> Keyring:
    """Load an existing key file, refusing one that group or others can read."""
    source = f"El archivo de claves {path}"
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"{source} no es un archivo normal.")
        if st.st_mode & 0o077:
            mode = stat.S_IMODE(st.st_mode)
            raise KeyFileError(
                f"{source} tiene permisos {mode:04o}; ejecute chmod 600 {path} "
                "y vuelva a iniciar Somos."
            )
        return _parse(path.read_bytes(), source)
    except OSError as exc:
        raise KeyFileError(
            f"No se pudo leer el archivo de claves {path}: {exc.strerror}."
        ) from None


def load_or_create_keyring(path: Path) -> tuple[Keyring, bool]:
    """Load the key file, or create it (0600, atomically) if missing; bool = created."""
    if path.exists():
        return load_keyring(path), False
    keyring = Keyring.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_private_temp(path, keyring.to_json())
    try:
        # link() never overwrites: if another process won the race, use its keys.
        os.link(tmp, path)
    except FileExistsError:
        return load_keyring(path), False
    except OSError:
        # Some mounted filesystems refuse hard links; fall back to a plain rename.
        if path.exists():
            return load_keyring(path), False
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return keyring, True


def keyring_from_env(value: str) -> Keyring:
    """Parse a keyring given as base64 of the key file JSON (e.g. SOMOS_KEYRING)."""
    source = "La variable de entorno con las claves"
    try:
        text = base64.b64decode(value.strip(), validate=True)
    except (ValueError, binascii.Error):
        raise KeyFileError(f"{source} no es base64 válido.") from None
    return _parse(text, source)
