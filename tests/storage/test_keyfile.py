from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from storage.crypto import DecryptionError
from storage.keyfile import KeyFileError, Keyring, keyring_from_env, load_or_create_keyring


def test_created_with_mode_0600_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "somos-keys.json"
    keyring, created = load_or_create_keyring(path)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["somos-keys.json"]  # no temp left
    again, created_again = load_or_create_keyring(path)
    assert not created_again
    assert again == keyring
    assert keyring.current_server_key_id.startswith("sk-")
    assert keyring.current_pepper_id.startswith("pp-")


def test_group_readable_file_refused_with_spanish_hint(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    load_or_create_keyring(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError) as info:
        load_or_create_keyring(path)
    message = str(info.value)
    assert "0644" in message
    assert f"chmod 600 {path}" in message


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        json.dumps({"version": 99}),
        json.dumps({"version": 1, "server_keys": {}, "peppers": {}}),
    ],
)
def test_malformed_file_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "keys.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(content)
    with pytest.raises(KeyFileError):
        load_or_create_keyring(path)


def test_repr_hides_keys() -> None:
    keyring = Keyring.generate()
    text = repr(keyring)
    for key in [*keyring.server_keys.values(), *keyring.peppers.values()]:
        assert key.hex() not in text and repr(key) not in text


def test_seal_open_and_aad_binding() -> None:
    keyring = Keyring.generate()
    blob = keyring.seal(b"borrador", b"draft:abc")
    assert keyring.open(blob, b"draft:abc") == b"borrador"
    with pytest.raises(DecryptionError):
        keyring.open(blob, b"draft:xyz")
    with pytest.raises(DecryptionError):
        Keyring.generate().open(blob, b"draft:abc")
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(DecryptionError):
        keyring.open(bytes(tampered), b"draft:abc")
    with pytest.raises(DecryptionError):
        keyring.open(b"", b"draft:abc")


def test_rotation_keeps_old_blobs_readable(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    old, _ = load_or_create_keyring(path)
    blob = old.seal(b"viejo", b"aad")
    new = old.rotate_server_key()
    assert new.current_server_key_id != old.current_server_key_id
    assert set(old.server_keys) < set(new.server_keys)
    new.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    reloaded, created = load_or_create_keyring(path)
    assert not created
    assert reloaded.open(blob, b"aad") == b"viejo"
    assert reloaded.seal(b"nuevo", b"aad")[2:].startswith(new.current_server_key_id.encode())
    # The old keyring cannot open what the new key sealed.
    with pytest.raises(DecryptionError):
        old.open(reloaded.seal(b"nuevo", b"aad"), b"aad")


def test_pseudonyms_stable_and_scope_separated() -> None:
    keyring = Keyring.generate()
    a = keyring.pseudonym(123456789, "chat")
    assert a == keyring.pseudonym("123456789", "chat")
    assert len(a) == 64 and int(a, 16) >= 0
    assert a != keyring.pseudonym(123456789, "rate")
    assert a != Keyring.generate().pseudonym(123456789, "chat")
    with pytest.raises(ValueError):
        keyring.pseudonym(1, "a\x00b")


def test_pepper_rotation_candidates() -> None:
    keyring = Keyring.generate()
    before = keyring.pseudonym(42, "receipt")
    rotated = keyring.rotate_pepper()
    candidates = rotated.pseudonym_candidates(42, "receipt")
    assert candidates[0] == rotated.pseudonym(42, "receipt") != before
    assert before in candidates


def test_keyring_from_env_matches_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    keyring, _ = load_or_create_keyring(path)
    value = base64.b64encode(path.read_bytes()).decode()
    assert keyring_from_env(value) == keyring
    with pytest.raises(KeyFileError):
        keyring_from_env("%%% no base64 %%%")
    with pytest.raises(KeyFileError):
        keyring_from_env(base64.b64encode(b"{}").decode())


def test_keyring_is_immutable() -> None:
    keyring = Keyring.generate()
    with pytest.raises(TypeError):
        keyring.server_keys["x"] = b"y"  # type: ignore[index]
