"""Metadata stripping of evidence files, before anything is encrypted or stored."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from bot.evidence import EvidenceError, prepare
from storage.attachments import MAX_ATTACHMENT_BYTES

GPS_IFD = 0x8825


def gps_tagged_jpeg() -> bytes:
    image = Image.new("RGB", (64, 48), (180, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X (serial 12345)"
    exif[GPS_IFD] = {1: "N", 2: (1.0, 48.0, 25.0), 3: "W", 4: (78.0, 45.0, 53.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(out.getvalue())).getexif().get_ifd(GPS_IFD)
    return out.getvalue()


def test_jpeg_sent_as_document_loses_gps_and_camera_tags() -> None:
    prepared = prepare(kind="document", data=gps_tagged_jpeg(), mime="image/jpeg")
    image = Image.open(io.BytesIO(prepared.data))
    assert prepared.meta["mime"] == "image/jpeg" and image.size == (64, 48)
    assert dict(image.getexif()) == {} and not image.getexif().get_ifd(GPS_IFD)
    assert b"PhoneMaker" not in prepared.data and b"serial 12345" not in prepared.data


def test_pdf_loses_author_and_title() -> None:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": "Marisol Quiñones", "/Title": "Denuncia"})
    source = io.BytesIO()
    writer.write(source)
    prepared = prepare(kind="document", data=source.getvalue(), mime="application/pdf")
    reader = PdfReader(io.BytesIO(prepared.data))
    assert len(reader.pages) == 1 and not reader.metadata
    assert b"Marisol" not in prepared.data


def test_voice_note_is_kept_as_audio() -> None:
    prepared = prepare(kind="voice", data=b"OggS" + b"\x00" * 60, mime="audio/ogg")
    assert prepared.meta == {"kind": "voice", "mime": "audio/ogg", "size": 64}


@pytest.mark.parametrize(
    ("data", "mime", "reason"),
    [
        (b"MZ\x90\x00 not a document", "application/x-msdownload", "unsupported"),
        (b"not really a jpeg", "image/jpeg", "unsupported"),
        (b"%PDF-1.4 broken", "application/pdf", "unsupported"),
        (b"x" * (MAX_ATTACHMENT_BYTES + 1), "image/jpeg", "too_large"),
    ],
)
def test_unusable_files_are_refused(data: bytes, mime: str, reason: str) -> None:
    with pytest.raises(EvidenceError) as refused:
        prepare(kind="document", data=data, mime=mime)
    assert refused.value.reason == reason
