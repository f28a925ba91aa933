"""Evidence files: metadata stripped before anything is encrypted or stored.

A photo's EXIF can hold the GPS position of the person who took it and the
phone's serial; a PDF's document info can hold an author's name. Both go.
"""

from __future__ import annotations

import io
import logging
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

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
    # A new image holds pixels only; nothing of the original's info dict comes along.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    if image.mode == "P":
        clean.putpalette(image.getpalette() or [])
    if fmt == "JPEG" and clean.mode not in ("RGB", "L"):
        clean = clean.convert("RGB")
    out = io.BytesIO()
    clean.save(out, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    mime = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[fmt]
    return out.getvalue(), mime


def strip_pdf(data: bytes) -> bytes:
    """Copies the pages into a new PDF without document info or XMP metadata."""
    try:
        reader = PdfReader(io.BytesIO(data))
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        writer.metadata = None
        out = io.BytesIO()
        writer.write(out)
    except (PdfReadError, ValueError, KeyError, OSError) as error:
        raise EvidenceError("unsupported") from error
    return out.getvalue()


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
        # Telegram voice notes are Opus in OGG, recorded in the app: no personal tags.
        audio_mime = mime if mime in AUDIO_TYPES else "audio/ogg"
        return File({"kind": kind if kind in ("voice", "audio") else "audio",
                     "mime": audio_mime, "size": len(data)}, data)
    raise EvidenceError("unsupported")
