"""Small real media files for tests: a GPS-tagged photo, tagged audio, a PDF with a photo.

Each is a file a phone could send, built here so the tests need no fixtures on disk.
"""

from __future__ import annotations

import io
import struct

from mutagen.id3 import APIC, ID3, TIT2, TPE1
from mutagen.ogg import OggPage
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

GPS_IFD = 0x8825
PERSON = "Marisol Quiñones"
PLACE = "Vereda El Retiro 1.807,-78.764"


def gps_tagged_jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (180, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X (serial 12345)"
    exif[GPS_IFD] = {1: "N", 2: (1.0, 48.0, 25.0), 3: "W", 4: (78.0, 45.0, 53.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(out.getvalue())).getexif().get_ifd(GPS_IFD)
    return out.getvalue()


def ogg_opus(comments: list[str] | None = None) -> bytes:
    """A voice note as Telegram records it (Opus in Ogg): header, tags, one silent frame."""
    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIh", 312, 48000, 0) + b"\x00"
    vendor = b"libopus 1.3"
    pairs = [c.encode() for c in comments or []]
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(pairs))
    tags += b"".join(struct.pack("<I", len(p)) + p for p in pairs)
    pages = []
    for sequence, (packet, position) in enumerate(((head, 0), (tags, 0), (b"\xf8\xff\xfe", 960))):
        page = OggPage()
        page.serial, page.sequence, page.position = 4242, sequence, position
        page.first, page.last = sequence == 0, sequence == 2
        page.packets = [packet]
        pages.append(page.write())
    return b"".join(pages)


def tagged_mp3() -> bytes:
    """An MP3 whose ID3 tags name a person and carry a GPS-tagged cover photo."""
    frames = (b"\xff\xfb\x90\x64" + b"\x00" * 413) * 5
    tags = ID3()
    tags.add(TPE1(encoding=3, text=PERSON))
    tags.add(TIT2(encoding=3, text=PLACE))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="foto", data=gps_tagged_jpeg()))
    out = io.BytesIO(frames)
    tags.save(out)
    return out.getvalue()


def pdf_with_photo() -> bytes:
    """A one-page PDF showing a GPS-tagged JPEG (kept whole, EXIF and all, as DCTDecode),
    with a comment signed by a person and a file attached."""
    jpeg = gps_tagged_jpeg()
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    photo = DecodedStreamObject()
    photo.set_data(jpeg)
    photo.update({
        NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
        NameObject("/Width"): NumberObject(64), NameObject("/Height"): NumberObject(48),
        NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
        NameObject("/BitsPerComponent"): NumberObject(8),
        NameObject("/Filter"): NameObject("/DCTDecode"),
    })
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(photo)}),
    })
    content = DecodedStreamObject()
    content.set_data(b"q 64 0 0 48 20 20 cm /Im0 Do Q")
    page[NameObject("/Contents")] = writer._add_object(content)
    comment = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Text"),
        NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (10, 10, 30, 30)]),
        NameObject("/Contents"): TextStringObject("Llegó este panfleto"),
        NameObject("/T"): TextStringObject(PERSON),
    })
    attached = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"),
        NameObject("/Subtype"): NameObject("/FileAttachment"),
        NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (40, 10, 60, 30)]),
        NameObject("/Contents"): TextStringObject(PLACE),
    })
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(comment),
                                               writer._add_object(attached)])
    writer.add_metadata({"/Author": PERSON})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
