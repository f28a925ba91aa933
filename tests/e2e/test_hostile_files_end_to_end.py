"""The attacker who floods `somos serve` with files (issue 13), through the Bot API double.

One chat sends what costs the server most — files at a question that takes none, files
past the quotas, decompression bombs — while another person uses the bot. The server is
measured the way an operator would: the database's size on disk, the process's memory
in /proc, how long the other person waits.
"""

from __future__ import annotations

import io
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter

from tests.support.botapi import FakeUser
from tests.support.harness import Deployment, at_place_question, deploy, open_threat_report

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("hostile-files")]

NINE_MB = 9 * 1024 * 1024
START_WITHIN = 2.0  # seconds, acceptance 1
PEAK_MEMORY = 400 * 1024 * 1024  # bytes, acceptance 1


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy(tmp_path_factory.mktemp("hostile-files")) as running:
        yield running


def wav(size: int) -> bytes:
    """A silent PCM WAV of about `size` bytes."""
    frames = size - 44
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + frames) + b"WAVE" + b"fmt " +
            struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", frames) + bytes(frames))


def on_disk(database: Path) -> int:
    """What the SQLite database takes on disk, its write-ahead log included."""
    return sum(path.stat().st_size for path in (database, Path(f"{database}-wal"))
               if path.exists())


def at_evidence_question(user: FakeUser) -> None:
    open_threat_report(user)
    user.send_text("Llegaron a la casa a cobrar la vacuna.")
    user.wait_for_bot_message("¿Tiene fotos, documentos o audios?")


def test_files_where_none_are_taken_or_past_the_quota_add_nothing_to_the_database(
    deployment: Deployment,
) -> None:
    user = deployment.user()
    at_place_question(user)
    downloads = len(deployment.double.calls("getFile"))
    before = on_disk(deployment.database)
    for _ in range(10):
        user.send_document(wav(NINE_MB), filename="grabacion.wav", mime_type="audio/wav")
        user.wait_for_bot_message("Aquí no puedo recibir archivos.")
    assert on_disk(deployment.database) - before < 1024 * 1024
    assert len(deployment.double.calls("getFile")) == downloads

    at_evidence_question(user)
    for _ in range(2):
        user.send_document(wav(NINE_MB), filename="grabacion.wav", mime_type="audio/wav")
        user.wait_for_bot_message("Recibido")
    downloads = len(deployment.double.calls("getFile"))
    before = on_disk(deployment.database)
    for _ in range(10):
        user.send_document(wav(NINE_MB), filename="grabacion.wav", mime_type="audio/wav")
        user.wait_for_bot_message(lambda message: "Es el máximo" in message.text
                                  or "en la última hora" in message.text)
    assert on_disk(deployment.database) - before < 1024 * 1024
    assert len(deployment.double.calls("getFile")) == downloads
    assert deployment.count("draft_attachments") == 2


def webp_bomb() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (7000, 7000), (200, 30, 30)).save(out, "WEBP", lossless=True)
    return out.getvalue()


def png_bomb() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (7000, 7000), (30, 30, 200)).save(out, "PNG", optimize=True)
    return out.getvalue()


def pdf_bomb(pages: int = 20_000) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def peak_memory(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_a_chat_sending_bombs_does_not_hold_another_chats_start(deployment: Deployment) -> None:
    attacker, person = deployment.user(), deployment.user()
    at_evidence_question(attacker)
    bombs = [webp_bomb(), png_bomb(), pdf_bomb()]
    answered = len(attacker.bot_messages())
    kept = deployment.count("draft_attachments")
    for n in range(20):
        kind = n % 3
        attacker.send_document(bombs[kind], filename=("a.webp", "a.png", "a.pdf")[kind],
                               mime_type=("image/webp", "image/png", "application/pdf")[kind])
    time.sleep(0.5)  # the bombs are being fetched and opened
    started = time.monotonic()
    person.send_command("/start")
    person.wait_for_bot_message("¿Qué quiere hacer?", timeout=30)
    assert time.monotonic() - started < START_WITHIN
    # Every bomb is answered (refused, or kept only as what it shows), and the server
    # never held one decoded.
    attacker.wait_for_bot_message(
        lambda _: len(attacker.bot_messages()) >= answered + 20, timeout=120)
    assert peak_memory(deployment.server.process.pid) < PEAK_MEMORY
    said = attacker.transcript()
    assert "Esa imagen es demasiado grande para revisarla." in said
    assert "Ese PDF tiene más de 30 páginas." in said
    assert deployment.count("draft_attachments") == kept
