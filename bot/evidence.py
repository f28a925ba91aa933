"""Evidence files: metadata stripped before anything is encrypted or stored.

A photo's EXIF can hold the GPS position of the person who took it and the
phone's serial; a PDF's document info, its XMP, its comments' author fields and
the photos inside it can hold names and places; an audio file's tags can hold an
artist name, a place or a cover photo. All of it goes.
"""

from __future__ import annotations

import io
import logging
import warnings

import mutagen
from mutagen import MutagenError
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError, PyPdfError
from pypdf.generic import DictionaryObject, NameObject

from storage.attachments import MAX_ATTACHMENT_BYTES, File

log = logging.getLogger("somos.bot")

IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
AUDIO_TYPES = frozenset(
    {"audio/ogg", "audio/mpeg", "audio/mp4", "audio/x-m4a", "audio/aac", "audio/wav",
     "audio/x-wav", "audio/webm", "audio/opus"}
)
# Pillow refuses images above this many pixels (decompression bombs).
MAX_PIXELS = 50_000_000


class EvidenceError(ValueError):
    """A file that cannot be accepted; `reason` is "too_large" or "unsupported"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def pixels_only(image: Image.Image) -> Image.Image:
    """A new image with the same pixels and nothing of the original's info (EXIF, XMP…)."""
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    if image.mode == "P":
        clean.putpalette(image.getpalette() or [])
    return clean


def strip_image(data: bytes) -> tuple[bytes, str]:
    """Re-encodes an image from its pixels only: no EXIF, GPS, XMP or ICC data survives."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                fmt = opened.format or "JPEG"
                # Apply the EXIF orientation first, so the picture stays upright without it.
                image = ImageOps.exif_transpose(opened)
                image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as error:
        raise EvidenceError("unsupported") from error
    if fmt not in ("JPEG", "PNG", "WEBP"):
        fmt = "PNG"
    clean = pixels_only(image)
    if fmt == "JPEG" and clean.mode not in ("RGB", "L"):
        clean = clean.convert("RGB")
    out = io.BytesIO()
    clean.save(out, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    mime = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[fmt]
    return out.getvalue(), mime


# Annotation fields that name or date a person's edits; the comment text itself stays.
_ANNOTATION_TRACES = ("/T", "/M", "/CreationDate", "/NM")
# Image encodings that carry metadata inside the stream (JPEG's APP segments, JPX boxes).
_IMAGE_FORMATS_WITH_METADATA = frozenset({"JPEG", "JPEG2000", "MPO"})


def _strip_page(page: DictionaryObject) -> None:
    for key in ("/Metadata", "/PieceInfo"):
        page.pop(NameObject(key), None)
    annotations = page.get("/Annots")
    if annotations is None:
        return
    kept = []
    for reference in annotations.get_object():
        annotation = reference.get_object()
        if annotation.get("/Subtype") == "/FileAttachment":
            continue  # a file inside the PDF: not opened here, so not kept
        for key in _ANNOTATION_TRACES:
            annotation.pop(NameObject(key), None)
        kept.append(reference)
    annotations.get_object().clear()
    annotations.get_object().extend(kept)


def strip_pdf(data: bytes) -> bytes:
    """Copies the pages into a new PDF without document info, XMP, comment authors,
    attached files, or the metadata of the photos placed in it (re-encoded from pixels)."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        reader = PdfReader(io.BytesIO(data))
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        writer.metadata = None
        for page in writer.pages:
            _strip_page(page)
            for picture in page.images:
                if picture.image is None or picture.image.format not in \
                        _IMAGE_FORMATS_WITH_METADATA:
                    continue
                clean = pixels_only(picture.image)
                if clean.mode not in ("RGB", "L", "CMYK"):
                    clean = clean.convert("RGB")
                picture.replace(clean, quality=90)
        # What was dropped (attached files, replaced photos) must not linger unreferenced.
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        out = io.BytesIO()
        writer.write(out)
    except (PyPdfError, PdfReadError, ValueError, KeyError, TypeError, OSError,
            Image.DecompressionBombError) as error:
        raise EvidenceError("unsupported") from error
    return out.getvalue()


def strip_audio(data: bytes) -> bytes:
    """The same audio without tags (names, places, cover pictures, comments).

    A file the tag library does not recognize as audio is refused: it could not be
    checked. Telegram's voice notes (Opus in Ogg) and the usual MP3, M4A, OGG, FLAC
    and WAV files are recognized.
    """
    buffer = io.BytesIO(data)
    try:
        audio = mutagen.File(buffer)
        if audio is None:
            raise EvidenceError("unsupported")
        buffer.seek(0)
        audio.delete(buffer)
    except MutagenError as error:
        raise EvidenceError("unsupported") from error
    return buffer.getvalue()


def prepare(*, kind: str, data: bytes, mime: str | None) -> File:
    """Checks size and type and strips metadata; the file name is never kept."""
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise EvidenceError("too_large")
    mime = (mime or "").lower()
    if kind == "photo" or mime in IMAGE_TYPES:
        clean, clean_mime = strip_image(data)
        return File({"kind": "photo", "mime": clean_mime, "size": len(clean)}, clean)
    if mime == "application/pdf":
        clean = strip_pdf(data)
        return File({"kind": "document", "mime": "application/pdf", "size": len(clean)}, clean)
    if kind in ("voice", "audio") or mime in AUDIO_TYPES:
        clean = strip_audio(data)
        audio_mime = mime if mime in AUDIO_TYPES else "audio/ogg"
        return File({"kind": kind if kind in ("voice", "audio") else "audio",
                     "mime": audio_mime, "size": len(clean)}, clean)
    raise EvidenceError("unsupported")
