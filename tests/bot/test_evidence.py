"""Evidence made to carry only what it shows, before anything is encrypted or stored.

Each test builds a real file carrying the metadata or active content a phone, an app or
an attacker puts in, runs `bot.evidence.prepare` (the work the sandbox's worker does), and
checks both sides: none of it is left, and the picture, the pages and the sound are.
"""

from __future__ import annotations

import io
import struct
import wave

import mutagen
import pypdfium2 as pdfium
import pytest
from mutagen.mp3 import MP3
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfReader, PdfWriter

from bot.evidence import EvidenceError, prepare, refusal
from bot.i18n import render, translations
from storage.attachments import MAX_ATTACHMENT_BYTES
from tests.support.hostile import (
    BLUE,
    PDF_ACTIVE_NAMES,
    PDF_MARKERS,
    PDF_SQUARES,
    PDF_TEXT_BOX,
    SERIAL,
    camera_jpeg,
    hostile_pdf,
    mp3_everything,
    ogg_opus_with_companion,
    ogg_vorbis,
    pdf_of_pages,
    pdf_page_bomb,
    pdf_structure,
    solid_picture,
    tagged_wav,
    wav_samples,
)
from tests.support.media import (
    GPS_IFD,
    PERSON,
    PLACE,
    gps_tagged_jpeg,
    ogg_opus,
    pdf_with_photo,
    tagged_mp3,
)


def close_to(seen: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(seen, expected, strict=False))


def rendered(data: bytes, scale: float = 1) -> list[Image.Image]:
    """Every page of a PDF as pixels (1 pt = 1 px at scale 1)."""
    document = pdfium.PdfDocument(data)
    return [document[index].render(scale=scale).to_pil() for index in range(len(document))]


# --- Pictures ------------------------------------------------------------------------------

def test_jpeg_sent_as_document_loses_gps_and_camera_tags() -> None:
    prepared = prepare(kind="document", data=gps_tagged_jpeg(), mime="image/jpeg")
    image = Image.open(io.BytesIO(prepared.data))
    assert prepared.meta["mime"] == "image/jpeg" and image.size == (64, 48)
    assert dict(image.getexif()) == {} and not image.getexif().get_ifd(GPS_IFD)
    assert b"PhoneMaker" not in prepared.data and b"serial 12345" not in prepared.data


def test_png_keeps_every_pixel_and_loses_its_text_chunks_exif_and_profile() -> None:
    picture = Image.effect_noise((120, 80), 60).convert("RGB")
    info = PngInfo()
    info.add_text("Author", PERSON)
    info.add_itxt("Comment", f"Tomada en {PLACE}", zip=False)
    out = io.BytesIO()
    picture.save(out, "PNG", pnginfo=info, exif=Image.open(io.BytesIO(camera_jpeg())).getexif(),
                 icc_profile=b"\x00" * 64 + SERIAL.encode())
    assert SERIAL.encode() in out.getvalue() and b"Marisol" in out.getvalue()
    prepared = prepare(kind="document", data=out.getvalue(), mime="image/png")
    clean = Image.open(io.BytesIO(prepared.data))
    assert prepared.meta["mime"] == "image/png" and clean.size == (120, 80)
    assert clean.convert("RGB").tobytes() == picture.tobytes()
    for marker in (b"Marisol", b"Retiro", SERIAL.encode(), b"PhoneMaker", b"eXIf", b"iCCP"):
        assert marker not in prepared.data


def test_webp_and_jpeg_lose_exif_xmp_comments_and_profiles() -> None:
    exif = Image.open(io.BytesIO(camera_jpeg())).getexif()
    xmp = f"<x:xmpmeta><dc:creator>{PERSON}</dc:creator></x:xmpmeta>".encode()
    for fmt, mime, extra in (("WEBP", "image/webp", {}),
                             ("JPEG", "image/jpeg", {"comment": f"{PERSON} {PLACE}"})):
        out = io.BytesIO()
        Image.new("RGB", (90, 60), (30, 160, 90)).save(
            out, fmt, exif=exif, xmp=xmp, icc_profile=b"\x00" * 64 + SERIAL.encode(),
            quality=95, **extra)
        assert SERIAL.encode() in out.getvalue() and b"Marisol" in out.getvalue()
        prepared = prepare(kind="document", data=out.getvalue(), mime=mime)
        clean = Image.open(io.BytesIO(prepared.data))
        assert clean.size == (90, 60) and close_to(clean.getpixel((45, 30)), (30, 160, 90))
        for marker in (b"Marisol", b"Retiro", SERIAL.encode(), b"PhoneMaker", b"Exif"):
            assert marker not in prepared.data, (fmt, marker)


def test_a_sideways_photo_comes_out_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    out = io.BytesIO()
    Image.new("RGB", (80, 40), (200, 0, 0)).save(out, "JPEG", exif=exif.tobytes())
    prepared = prepare(kind="photo", data=out.getvalue(), mime=None)
    assert Image.open(io.BytesIO(prepared.data)).size == (40, 80)


def test_a_48_megapixel_phone_photo_is_kept_at_half_size() -> None:
    prepared = prepare(kind="document", data=solid_picture((8000, 6000), "JPEG"),
                       mime="image/jpeg")
    assert Image.open(io.BytesIO(prepared.data)).size == (4000, 3000)


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_a_7000_pixel_square_picture_is_refused_before_it_is_decoded(fmt: str) -> None:
    bomb = solid_picture((7000, 7000), fmt)
    assert len(bomb) < 400_000
    with pytest.raises(EvidenceError) as refused:
        prepare(kind="document", data=bomb, mime=f"image/{fmt.lower()}")
    assert refused.value.reason == "too_big_picture"


# --- PDFs ----------------------------------------------------------------------------------

def test_pdf_loses_author_and_title() -> None:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": "Marisol Quiñones", "/Title": "Denuncia"})
    source = io.BytesIO()
    writer.write(source)
    prepared = prepare(kind="document", data=source.getvalue(), mime="application/pdf")
    reader = PdfReader(io.BytesIO(prepared.data))
    assert len(reader.pages) == 1 and not reader.metadata
    assert b"Marisol" not in prepared.data and b"Denuncia" not in prepared.data


def test_pdf_photo_still_shows_without_its_exif_and_comments_are_gone() -> None:
    source = pdf_with_photo()
    assert b"PhoneMaker" in source  # the photo went in whole, EXIF and all
    prepared = prepare(kind="document", data=source, mime="application/pdf")
    (page,) = rendered(prepared.data)
    assert page.size == (200, 200)
    # The photo (64×48 pt at 20, 20 from the bottom left) is still there, in its colour.
    assert close_to(page.getpixel((52, 200 - 44)), (180, 40, 40))
    assert b"PhoneMaker" not in prepared.data and b"serial 12345" not in prepared.data
    assert b"Retiro" not in prepared.data and b"Marisol" not in prepared.data
    assert b"/Annots" not in pdf_structure(prepared.data)


def test_hostile_pdf_keeps_what_its_page_shows_and_nothing_else() -> None:
    prepared = prepare(kind="document", data=hostile_pdf(), mime="application/pdf")
    assert prepared.meta == {"kind": "document", "mime": "application/pdf",
                             "size": len(prepared.data)}
    assert [m for m in PDF_MARKERS if m in prepared.data] == []
    assert [n for n in PDF_ACTIVE_NAMES if n in pdf_structure(prepared.data)] == []
    assert b"Exif" not in prepared.data  # neither the thumbnail's nor the photo's
    (page,) = rendered(prepared.data)
    assert page.size == (300, 300)
    for what, ((left, bottom), colour) in PDF_SQUARES.items():
        assert close_to(page.getpixel((left + 30, 300 - (bottom + 30))), colour), what
    left, bottom, right, top = PDF_TEXT_BOX
    text = page.crop((left, 300 - top, right, 300 - bottom)).getcolors(maxcolors=1 << 16) or []
    assert sum(count for count, colour in text if close_to(colour, BLUE, 60)) > 300
    # The words are pixels now: nothing left to select, search or copy.
    document = pdfium.PdfDocument(prepared.data)
    assert document[0].get_textpage().get_text_bounded().strip() == ""


def test_pdf_pages_keep_their_order_and_size() -> None:
    prepared = prepare(kind="document", data=pdf_of_pages(30), mime="application/pdf")
    pages = rendered(prepared.data)
    assert len(pages) == 30 and {page.size for page in pages} == {(100, 100)}
    assert all(close_to(page.getpixel((50, 50)), (220, 20, 20)) for page in pages)


@pytest.mark.parametrize("data", [pdf_of_pages(31), pdf_page_bomb(40_000)],
                         ids=["31 pages", "40,000 pages"])
def test_pdf_with_too_many_pages_is_refused_before_rendering(data: bytes) -> None:
    with pytest.raises(EvidenceError) as refused:
        prepare(kind="document", data=data, mime="application/pdf")
    assert refused.value.reason == "too_many_pages"


# --- Audio ---------------------------------------------------------------------------------

def test_voice_note_loses_its_tags_and_still_plays() -> None:
    source = ogg_opus([f"ARTIST={PERSON}", f"LOCATION={PLACE}"])
    prepared = prepare(kind="voice", data=source, mime="audio/ogg")
    assert prepared.meta == {"kind": "voice", "mime": "audio/ogg", "size": len(prepared.data)}
    heard = mutagen.File(io.BytesIO(prepared.data))
    assert isinstance(heard, OggOpus) and not dict(heard.tags or {})
    assert heard.info.length == OggOpus(io.BytesIO(source)).info.length
    assert b"Marisol" not in prepared.data and b"Retiro" not in prepared.data
    assert b"libopus" not in prepared.data  # the vendor string goes too


def test_voice_note_loses_a_second_stream_and_a_cover_picture() -> None:
    source = ogg_opus_with_companion()
    prepared = prepare(kind="voice", data=source, mime="audio/ogg")
    heard = OggOpus(io.BytesIO(prepared.data))
    assert not dict(heard.tags or {}) and heard.info.length == pytest.approx(1.0 - 312 / 48000)
    assert heard.info.length == OggOpus(io.BytesIO(source)).info.length
    for marker in (b"Marisol", b"Retiro", b"METADATA_BLOCK_PICTURE", SERIAL.encode()):
        assert marker not in prepared.data
    serials = {struct.unpack_from("<I", prepared.data, i + 14)[0]
               for i in range(len(prepared.data)) if prepared.data.startswith(b"OggS", i)}
    assert serials == {4242}


def test_ogg_vorbis_loses_its_comments_and_vendor_and_keeps_its_length() -> None:
    source = ogg_vorbis([f"ARTIST={PERSON}", f"LOCATION={PLACE}"])
    prepared = prepare(kind="audio", data=source, mime="audio/ogg")
    heard = OggVorbis(io.BytesIO(prepared.data))
    assert not dict(heard.tags or {}) and heard.info.length == 1.0
    for marker in (b"Marisol", b"Retiro", b"Xiph.Org"):
        assert marker not in prepared.data


def test_mp3_keeps_only_its_frames() -> None:
    source = mp3_everything()
    for marker in (b"Marisol", b"Retiro", b"PhoneMaker", b"LAME3.100", b"APETAGEX", b"TAG"):
        assert marker in source
    prepared = prepare(kind="audio", data=source, mime="audio/mpeg")
    assert prepared.meta["mime"] == "audio/mpeg"
    for marker in (b"Marisol", b"Retiro", b"PhoneMaker", b"LAME", b"APETAGEX", b"TAG", b"ID3"):
        assert marker not in prepared.data
    assert len(prepared.data) == 21 * 417  # the Info frame and 20 frames of sound, whole
    assert MP3(io.BytesIO(prepared.data)).info.length == MP3(io.BytesIO(source)).info.length


def test_audio_file_loses_names_and_its_cover_photo() -> None:
    source = tagged_mp3()
    assert b"PhoneMaker" in source and b"Marisol" in source
    prepared = prepare(kind="audio", data=source, mime="audio/mpeg")
    assert prepared.meta["mime"] == "audio/mpeg"
    assert b"PhoneMaker" not in prepared.data and b"Marisol" not in prepared.data
    assert b"Retiro" not in prepared.data
    assert isinstance(mutagen.File(io.BytesIO(prepared.data)), MP3)


def test_wav_keeps_its_sound_and_loses_info_bext_and_id3_chunks() -> None:
    source = tagged_wav()
    for marker in (b"LIST", b"INAM", b"ICMT", b"bext", b"id3 ", b"Marisol", b"Retiro"):
        assert marker in source
    prepared = prepare(kind="audio", data=source, mime="audio/x-wav")
    assert prepared.meta["mime"] == "audio/wav"
    for marker in (b"LIST", b"INFO", b"bext", b"id3 ", b"Marisol", b"Retiro", b"PhoneMaker",
                   b"2026"):
        assert marker not in prepared.data
    with wave.open(io.BytesIO(prepared.data)) as heard:
        assert (heard.getnchannels(), heard.getsampwidth(), heard.getframerate()) == (1, 2, 8000)
        assert heard.readframes(heard.getnframes()) == wav_samples()


# --- What is refused, and what the person is told ------------------------------------------

def _broken_crc(data: bytes) -> bytes:
    return data[:22] + bytes([data[22] ^ 0xFF]) + data[23:]


@pytest.mark.parametrize(
    ("data", "mime", "reason"),
    [
        (b"MZ\x90\x00 not a document", "application/x-msdownload", "unsupported"),
        (b"not really a jpeg", "image/jpeg", "unsupported"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/jpeg", "unsupported"),
        (b"%PDF-1.4 broken", "application/pdf", "unsupported"),
        (b"OggS" + b"\x00" * 60, "audio/ogg", "unsupported"),
        (_broken_crc(ogg_opus()), "audio/ogg", "unsupported"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + b"\x00" * 64, "audio/mp4",
         "unsupported"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + b"\x00" * 64, "audio/x-m4a",
         "unsupported"),
        (b"\x1aE\xdf\xa3\x9fB\x86\x81\x01" + b"\x00" * 64, "audio/webm", "unsupported"),
        (b"fLaC\x00\x00\x00\x22" + b"\x00" * 64, "audio/flac", "unsupported"),
        (tagged_wav()[:-400], "audio/wav", "unsupported"),  # cut: its sizes lie
        (b"x" * (MAX_ATTACHMENT_BYTES + 1), "image/jpeg", "too_large"),
    ],
    ids=["program", "not a jpeg", "gif", "broken pdf", "not ogg", "ogg checksum", "m4a",
         "m4a as x-m4a", "webm", "flac", "cut wav", "too large"],
)
def test_unusable_files_are_refused(data: bytes, mime: str, reason: str) -> None:
    with pytest.raises(EvidenceError) as refused:
        prepare(kind="audio" if mime.startswith("audio/") else "document", data=data, mime=mime)
    assert refused.value.reason == reason


@pytest.mark.parametrize(("reason", "spanish", "english"), [
    ("too_large", "Ese archivo es muy grande. El límite es de 10 MB.",
     "That file is too big. The limit is 10 MB."),
    ("too_many_pages", "Ese PDF tiene más de 30 páginas. Envíe solo las páginas importantes.",
     "That PDF has more than 30 pages. Send only the pages that matter."),
    ("too_big_picture", "Esa imagen es demasiado grande para revisarla. Envíe una foto normal "
     "o una captura de pantalla.", "That image is too large to check. Send a regular photo "
     "or a screenshot."),
    ("unsupported", "No puedo recibir ese tipo de archivo. Envíe fotos, documentos PDF o notas "
     "de voz.", "I cannot take that kind of file. Send photos, PDF documents or voice notes."),
    ("failed", "No pude revisar ese archivo. Intente con otro formato (foto, PDF o nota de voz).",
     "I could not check that file. Try another format (photo, PDF or voice note)."),
])
def test_a_refusal_says_why_in_the_persons_language(reason: str, spanish: str,
                                                    english: str) -> None:
    message = refusal(EvidenceError(reason))
    assert render(message, translations("es")) == spanish
    assert render(message, translations("en")) == english

