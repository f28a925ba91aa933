"""Files that carry every kind of metadata and active content we know of, and bombs.

Each is built here, byte by byte or with the format's own library, so the evidence
tests check real files: what a recorder app, a scanner, a phone or an attacker writes.
"""

from __future__ import annotations

import base64
import io
import re
import struct
import wave
import zlib

from mutagen.id3 import APIC, ID3, TIT2, TPE1
from mutagen.ogg import OggPage
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)

from tests.support.media import GPS_IFD, PERSON, PLACE

SERIAL = "SN-4417-XYZ"
BEACON = "https://beacon.example/t?r=Retiro"
RED, BLUE, GREEN, YELLOW = (220, 20, 20), (20, 20, 220), (0, 150, 0), (250, 200, 0)
# Strings that must not survive in a cleaned PDF, whatever object held them.
# (pypdf writes "." and "-" in strings as octal escapes: the markers avoid them.)
PDF_MARKERS = (b"Marisol", b"Retiro", SERIAL.encode(), b"beacon", b"PhoneMaker",
               b"alert", b"launchURL", b"nota", b"PANFLETO")
# Names of PDF objects that carry metadata or run something, none of which may survive.
PDF_ACTIVE_NAMES = (b"/JavaScript", b"/JS", b"/URI", b"/EmbeddedFile", b"/Thumb",
                    b"/Metadata", b"/PieceInfo", b"/AA", b"/OpenAction", b"/Annots",
                    b"/Names", b"/Font")
# Where the crafted PDF's 300×300 pt page draws each colour: (left, bottom) of a 60×60 pt
# square, in points from the bottom left corner.
PDF_SQUARES = {"red rectangle": ((30, 200), RED), "image": ((150, 200), YELLOW),
               "form": ((150, 40), GREEN)}
PDF_TEXT_BOX = (30, 130, 270, 170)  # where the blue text is written (left, bottom, right, top)


def camera_jpeg(size: tuple[int, int] = (32, 32), colour: tuple[int, int, int] = YELLOW) -> bytes:
    """A JPEG with a camera's full EXIF: maker, model, body serial number, GPS."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    exif[0x8769] = {0xA431: SERIAL, 0x9003: "2026:11:28 21:14:03"}  # BodySerialNumber, date
    exif[GPS_IFD] = {1: "N", 2: (1.0, 48.0, 25.0), 3: "W", 4: (78.0, 45.0, 53.0)}
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", exif=exif.tobytes(), quality=95)
    assert b"Exif" in out.getvalue() and SERIAL.encode() in out.getvalue()
    return out.getvalue()


def _xmp(note: str) -> bytes:
    return (f'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            f'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
            f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{PERSON}</dc:creator>'
            f"<dc:description>{note} {PLACE}</dc:description></rdf:Description></rdf:RDF>"
            f'</x:xmpmeta><?xpacket end="w"?>').encode()


def hostile_pdf() -> bytes:
    """A one-page PDF (300×300 pt) that shows a red rectangle, blue text, a yellow photo
    and a green form, and hides: XMP on the document, the photo and the form; the form's
    /PieceInfo; a page thumbnail that is a JPEG with a camera's EXIF; JavaScript when the
    page or the document opens; a link that calls a server; a file attached twice (in
    the document's name tree and as a page annotation); an author in the document info."""
    writer = PdfWriter()
    page = writer.add_blank_page(300, 300)

    def stream(data: bytes, **entries: PdfObject) -> PdfObject:
        obj = DecodedStreamObject()
        obj.set_data(data)
        obj.update({NameObject(key): value for key, value in entries.items()})
        return writer._add_object(obj)

    def name(value: str) -> NameObject:
        return NameObject(value)

    def box(*values: float) -> ArrayObject:
        return ArrayObject([FloatObject(v) for v in values])

    def javascript(code: str) -> DictionaryObject:
        return DictionaryObject({name("/S"): name("/JavaScript"),
                                 name("/JS"): TextStringObject(code)})

    photo = stream(camera_jpeg(), **{
        "/Type": name("/XObject"), "/Subtype": name("/Image"), "/Width": NumberObject(32),
        "/Height": NumberObject(32), "/ColorSpace": name("/DeviceRGB"),
        "/BitsPerComponent": NumberObject(8), "/Filter": name("/DCTDecode"),
        "/Metadata": stream(_xmp("foto"), **{"/Type": name("/Metadata"),
                                            "/Subtype": name("/XML")}),
    })
    form = stream(b"0 0.588 0 rg 150 40 60 60 re f", **{
        "/Type": name("/XObject"), "/Subtype": name("/Form"), "/BBox": box(0, 0, 300, 300),
        "/Metadata": stream(_xmp("formulario"), **{"/Type": name("/Metadata"),
                                                  "/Subtype": name("/XML")}),
        "/PieceInfo": DictionaryObject({name("/PhoneMakerScanner"): DictionaryObject({
            name("/LastModified"): TextStringObject("D:20261128211403-05'00'"),
            name("/Private"): TextStringObject(f"{PERSON}, {PLACE}"),
        })}),
    })
    page[name("/Resources")] = DictionaryObject({
        name("/XObject"): DictionaryObject({name("/Im0"): photo, name("/Fm0"): form}),
        name("/Font"): DictionaryObject({name("/F1"): DictionaryObject({
            name("/Type"): name("/Font"), name("/Subtype"): name("/Type1"),
            name("/BaseFont"): name("/Helvetica-Bold")})}),
    })
    page[name("/Contents")] = stream(
        b"0.863 0.078 0.078 rg 30 200 60 60 re f "
        b"0.078 0.078 0.863 rg BT /F1 40 Tf 32 135 Td (PANFLETO) Tj ET "
        b"q 60 0 0 60 150 200 cm /Im0 Do Q /Fm0 Do")
    page[name("/Thumb")] = stream(camera_jpeg((16, 16)), **{
        "/Width": NumberObject(16), "/Height": NumberObject(16),
        "/ColorSpace": name("/DeviceRGB"), "/BitsPerComponent": NumberObject(8),
        "/Filter": name("/DCTDecode")})
    page[name("/AA")] = DictionaryObject({
        name("/O"): javascript("app.launchURL('https://beacon.example/abierto')")})
    attached = DictionaryObject({
        name("/Type"): name("/Filespec"), name("/F"): TextStringObject("nota.txt"),
        name("/UF"): TextStringObject("nota.txt"),
        name("/EF"): DictionaryObject({name("/F"): stream(
            f"Escrito por {PERSON} en {PLACE}".encode(), **{"/Type": name("/EmbeddedFile")})}),
    })
    attached_ref = writer._add_object(attached)
    link = DictionaryObject({
        name("/Type"): name("/Annot"), name("/Subtype"): name("/Link"),
        name("/Rect"): box(30, 60, 200, 100), name("/Border"): box(0, 0, 0),
        name("/A"): DictionaryObject({name("/S"): name("/URI"),
                                      name("/URI"): TextStringObject(BEACON)}),
    })
    attachment = DictionaryObject({
        name("/Type"): name("/Annot"), name("/Subtype"): name("/FileAttachment"),
        name("/Rect"): box(250, 250, 270, 270), name("/FS"): attached_ref,
        name("/Contents"): TextStringObject(f"Adjunto de {PERSON}"),
    })
    page[name("/Annots")] = ArrayObject([writer._add_object(link),
                                         writer._add_object(attachment)])
    root = writer._root_object
    root[name("/OpenAction")] = javascript(f"app.alert('{PERSON}')")
    root[name("/Names")] = DictionaryObject({name("/EmbeddedFiles"): DictionaryObject({
        name("/Names"): ArrayObject([TextStringObject("nota.txt"), attached_ref])})})
    root[name("/Metadata")] = stream(_xmp("documento"), **{"/Type": name("/Metadata"),
                                                          "/Subtype": name("/XML")})
    writer.add_metadata({"/Author": PERSON, "/Creator": "PhoneMaker Scanner"})
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert all(marker in data for marker in PDF_MARKERS)
    assert all(active in data for active in PDF_ACTIVE_NAMES)
    return data


def pdf_structure(data: bytes) -> bytes:
    """A PDF without the bytes inside its streams: the objects and their names."""
    return re.sub(rb"stream\r?\n.*?endstream", b"stream endstream", data, flags=re.S)


def raw_pdf(page_objects: list[bytes], kids: list[int] | None = None) -> bytes:
    """A PDF written byte by byte: objects 3… are `page_objects` (each page's /Parent is
    2 0 R); the page tree lists `kids` (object numbers, repeats allowed), or every object."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b""] + page_objects
    pages = kids if kids is not None else list(range(3, 3 + len(page_objects)))
    objects[1] = (b"<< /Type /Pages /Count %d /Kids [" % len(pages)
                  + b" ".join(b"%d 0 R" % kid for kid in pages) + b"] >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    start = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, start))
    return out.getvalue()


def pdf_of_pages(count: int) -> bytes:
    """A PDF of `count` small pages (100×100 pt), each a red square."""
    drawing = b"0.863 0.078 0.078 rg 20 20 60 60 re f"
    objects: list[bytes] = []
    for index in range(count):
        content = 3 + 2 * index + 1
        objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents %d 0 R >>"
                    % content, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(drawing),
                                                                           drawing)]
    return raw_pdf(objects, kids=[3 + 2 * index for index in range(count)])


def pdf_page_bomb(pages: int) -> bytes:
    """A PDF of `pages` pages in a few hundred KB: one page object listed again and again."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
    return raw_pdf([page], kids=[3] * pages)


def solid_picture(size: tuple[int, int], fmt: str, colour: tuple[int, int, int] = RED) -> bytes:
    """A picture of one colour: a 7000×7000 one compresses to a few hundred KB."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    return out.getvalue()


def _riff_chunk(chunk: bytes, body: bytes) -> bytes:
    return chunk + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1)


def wav_samples(frames: int = 800) -> bytes:
    """Mono 16-bit samples: a ramp, so a dropped or moved sample shows."""
    return b"".join(struct.pack("<h", (i * 37) % 20000 - 10000) for i in range(frames))


def tagged_wav(samples: bytes | None = None) -> bytes:
    """A WAV (mono, 16-bit, 8 kHz) as a recorder app writes it, with a LIST/INFO chunk
    (INAM a name, ICMT a comment with GPS text, ICRD a date), a broadcast-wave `bext`
    chunk naming the phone, and an ID3 chunk after the sound."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(samples if samples is not None else wav_samples())
    plain = out.getvalue()
    fmt_end = 12 + 8 + struct.unpack_from("<I", plain, 16)[0]
    info = b"INFO" + _riff_chunk(b"INAM", PERSON.encode() + b"\x00") \
        + _riff_chunk(b"ICMT", f"GPS {PLACE}".encode() + b"\x00") \
        + _riff_chunk(b"ICRD", b"2026-11-28 21:14\x00")
    bext = _riff_chunk(b"bext", b"PhoneMaker Recorder serial 12345".ljust(602, b"\x00"))
    tags = ID3()
    tags.add(TPE1(encoding=3, text=PERSON))
    id3 = io.BytesIO()
    tags.save(id3)
    body = (plain[12:fmt_end] + _riff_chunk(b"LIST", info) + bext + plain[fmt_end:]
            + _riff_chunk(b"id3 ", id3.getvalue()))
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def _ogg_page(serial: int, sequence: int, position: int, packets: list[bytes], *,
              first: bool = False, last: bool = False) -> bytes:
    page = OggPage()
    page.serial, page.sequence, page.position = serial, sequence, position
    page.first, page.last = first, last
    page.packets = packets
    return bytes(page.write())


def _opus_tags(comments: list[str], vendor: bytes = b"libopus 1.3") -> bytes:
    pairs = [c.encode() for c in comments]
    return (b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(pairs))
            + b"".join(struct.pack("<I", len(p)) + p for p in pairs))


_OPUS_HEAD = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIh", 312, 48000, 0) + b"\x00"
_OPUS_FRAME = b"\xf8\xff\xfe"  # 20 ms of silence


def ogg_opus_with_companion(frames: int = 50) -> bytes:
    """A voice note (Opus, `frames` × 20 ms) multiplexed with a second Opus stream whose
    tags and sound carry a name and a place; its own tags carry a cover picture."""
    picture = "METADATA_BLOCK_PICTURE=" + base64.b64encode(camera_jpeg()).decode()
    voice, other = 4242, 777
    pages = [_ogg_page(voice, 0, 0, [_OPUS_HEAD], first=True),
             _ogg_page(other, 0, 0, [_OPUS_HEAD], first=True),
             _ogg_page(voice, 1, 0, [_opus_tags([f"ARTIST={PERSON}", picture])]),
             _ogg_page(other, 1, 0, [_opus_tags([f"LOCATION={PLACE}"])])]
    for index in range(frames // 10):
        position = 960 * 10 * (index + 1)
        pages.append(_ogg_page(voice, 2 + index, position, [_OPUS_FRAME] * 10,
                               last=index == frames // 10 - 1))
        pages.append(_ogg_page(other, 2 + index, position, [PERSON.encode()] * 3,
                               last=index == frames // 10 - 1))
    return b"".join(pages)


def ogg_vorbis(comments: list[str]) -> bytes:
    """A Vorbis stream's pages: identification, comment and (stand-in) setup headers, then
    one page of sound packets ending at sample 44100 (one second)."""
    ident = (b"\x01vorbis" + struct.pack("<IBIiiiBB", 0, 1, 44100, 0, 128000, 0, 0xB8, 1))
    vendor = b"Xiph.Org libVorbis I 20200704 (Reducing Environment)"
    pairs = [c.encode() for c in comments]
    comment = (b"\x03vorbis" + struct.pack("<I", len(vendor)) + vendor
               + struct.pack("<I", len(pairs))
               + b"".join(struct.pack("<I", len(p)) + p for p in pairs) + b"\x01")
    setup = b"\x05vorbis" + bytes(range(256)) * 4
    return b"".join([_ogg_page(9, 0, 0, [ident], first=True),
                     _ogg_page(9, 1, 0, [comment, setup]),
                     _ogg_page(9, 2, 44100, [b"\x00\x11\x22"] * 20, last=True)])


def mp3_everything() -> bytes:
    """An MP3 with an ID3v2 tag (a name, a place, a cover photo with EXIF), a LAME
    Info frame naming its encoder, text between frames, an APE tag and an ID3v1 tag."""
    header = b"\xff\xfb\x90\x64"  # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo
    info = bytearray(header + bytes(413))
    info[36:40] = b"Info"
    info[40:44] = struct.pack(">I", 0x0F)
    info[44:48] = struct.pack(">I", 20)  # frames
    info[48:52] = struct.pack(">I", 417 * 21)  # bytes
    info[52:152] = bytes(range(100))  # seek table
    info[152:156] = struct.pack(">I", 50)  # quality
    info[156:165] = b"LAME3.100"
    frames = [bytes(info)] + [header + bytes(413)] * 20
    frames[7] += f"Grabado por {PERSON}".encode()  # between two frames
    ape = (b"APETAGEX" + struct.pack("<IIII", 2000, 40, 1, 0) + bytes(8)
           + struct.pack("<II", len(PLACE.encode()), 0) + b"Location\x00" + PLACE.encode())
    id3v1 = b"TAG" + PERSON.encode()[:30].ljust(30, b"\x00") + b"\x00" * 95
    return id3_tag() + b"".join(frames) + ape + id3v1


def id3_tag() -> bytes:
    """An ID3v2 tag naming a person and a place, with a cover photo carrying EXIF."""
    tags = ID3()
    tags.add(TPE1(encoding=3, text=PERSON))
    tags.add(TIT2(encoding=3, text=PLACE))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="foto", data=camera_jpeg()))
    out = io.BytesIO()
    tags.save(out)
    return out.getvalue()


def slow_pdf(pages: int = 30, side: int = 16_000) -> bytes:
    """A PDF of `pages` pages, each showing its own `side`×`side` grey picture (256 MP,
    250 KB compressed): seconds of work for PDFium a page, little memory."""
    squeezer = zlib.compressobj(9)
    row_block = b"\x80" * (side * 64)
    pixels = b"".join(squeezer.compress(row_block) for _ in range(side // 64))
    pixels += squeezer.flush()
    drawing = b"q 600 0 0 600 0 0 cm /I Do Q"
    objects: list[bytes] = []
    for index in range(pages):
        base = 3 + 3 * index
        objects += [
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 600] "
            b"/Resources << /XObject << /I %d 0 R >> >> /Contents %d 0 R >>" % (base + 2, base + 1),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(drawing), drawing),
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
            % (side, side, len(pixels), pixels),
        ]
    return raw_pdf(objects, kids=[3 + 3 * index for index in range(pages)])
