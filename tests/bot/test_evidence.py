"""Metadata stripping of evidence files, before anything is encrypted or stored."""

from __future__ import annotations

import io

import mutagen
import pytest
from mutagen.mp3 import MP3
from mutagen.oggopus import OggOpus
from PIL import Image
from pypdf import PdfReader, PdfWriter

from bot.evidence import EvidenceError, prepare
from storage.attachments import MAX_ATTACHMENT_BYTES
from tests.support.media import (
    GPS_IFD,
    PERSON,
    PLACE,
    gps_tagged_jpeg,
    ogg_opus,
    pdf_with_photo,
    tagged_mp3,
)


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


def test_pdf_photos_lose_gps_and_comments_lose_their_author() -> None:
    source = pdf_with_photo()
    assert b"PhoneMaker" in source  # the photo went in whole, EXIF and all
    prepared = prepare(kind="document", data=source, mime="application/pdf")
    page = PdfReader(io.BytesIO(prepared.data)).pages[0]
    (photo,) = page.images  # the photo is still on the page, upright and the same size
    assert photo.image is not None and photo.image.size == (64, 48)
    assert b"PhoneMaker" not in prepared.data and b"serial 12345" not in prepared.data
    annotations = [a.get_object() for a in page["/Annots"]]
    # The comment stays, without who wrote it; the attached file is gone.
    assert [a["/Contents"] for a in annotations] == ["Llegó este panfleto"]
    assert all("/T" not in a for a in annotations)
    assert b"Retiro" not in prepared.data and b"Marisol" not in prepared.data


def test_voice_note_loses_its_tags_and_still_plays() -> None:
    prepared = prepare(kind="voice", data=ogg_opus([f"ARTIST={PERSON}", f"LOCATION={PLACE}"]),
                       mime="audio/ogg")
    assert prepared.meta == {"kind": "voice", "mime": "audio/ogg", "size": len(prepared.data)}
    heard = mutagen.File(io.BytesIO(prepared.data))
    assert isinstance(heard, OggOpus) and not dict(heard.tags or {})
    assert b"Marisol" not in prepared.data and b"Retiro" not in prepared.data


def test_audio_file_loses_names_and_its_cover_photo() -> None:
    source = tagged_mp3()
    assert b"PhoneMaker" in source and b"Marisol" in source
    prepared = prepare(kind="audio", data=source, mime="audio/mpeg")
    assert prepared.meta["mime"] == "audio/mpeg"
    assert b"PhoneMaker" not in prepared.data and b"Marisol" not in prepared.data
    assert b"Retiro" not in prepared.data
    assert isinstance(mutagen.File(io.BytesIO(prepared.data)), MP3)


@pytest.mark.parametrize(
    ("data", "mime", "reason"),
    [
        (b"MZ\x90\x00 not a document", "application/x-msdownload", "unsupported"),
        (b"not really a jpeg", "image/jpeg", "unsupported"),
        (b"%PDF-1.4 broken", "application/pdf", "unsupported"),
        (b"OggS" + b"\x00" * 60, "audio/ogg", "unsupported"),  # not audio: tags unchecked
        (b"x" * (MAX_ATTACHMENT_BYTES + 1), "image/jpeg", "too_large"),
    ],
)
def test_unusable_files_are_refused(data: bytes, mime: str, reason: str) -> None:
    with pytest.raises(EvidenceError) as refused:
        prepare(kind="document", data=data, mime=mime)
    assert refused.value.reason == reason
