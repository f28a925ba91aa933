"""Pictures re-encoded from their pixels, after a size check on the header.

A photo's EXIF can hold the GPS position of whoever took it and the phone's serial
number; XMP, ICC profiles, PNG text chunks and JPEG comments can hold names. Only
the pixels are kept. Only JPEG, PNG and WebP are opened (each further decoder is
more code that hostile bytes reach).
"""

from __future__ import annotations

import io
import struct
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.refusals import EvidenceError

# Pixel budget, checked on the header before anything is decoded. Pillow holds a
# decoded picture in 4 bytes a pixel: 40 million pixels is 160 MB, about 190 MB at
# the worker's peak (measured), well inside its memory limit (bot/sandbox.py). It keeps
# every usual photo (12 MP 4000×3000, 24 MP 6000×4000, 36 MP) and screenshots (a long
# one is 1080×20000), and refuses the 7000×7000 (49 MP) class of pictures that
# compress to a few hundred KB of PNG or WebP and took 0.6–1.3 GB to strip.
MAX_PIXELS = 40_000_000
# A JPEG can be decoded at half its size directly (DCT scaling), in a quarter of the
# memory: so the 48–64 MP photos of recent phones (8000×6000, 9248×6936) are kept, at
# half their size, instead of refused. (Pillow's own bomb check stops at 89 MP.)
MAX_JPEG_PIXELS = 2 * MAX_PIXELS
# WebP is no camera's format, and Pillow's WebP decoder holds the picture about four
# times over (its canvas is allocated when the file is opened): 16 MP is 4000×4000,
# about 260 MB at the peak.
MAX_WEBP_PIXELS = 16_000_000
FORMATS = ("JPEG", "PNG", "WEBP")
JPEG_QUALITY = 90


def webp_size(data: bytes) -> tuple[int, int] | None:
    """A WebP's canvas size, read from its first 30 bytes (as Pillow reads it)."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8X" and len(data) >= 30:
        return (int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1)
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        (bits,) = struct.unpack_from("<I", data, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _open(data: bytes) -> Image.Image:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        size = webp_size(data)
        if size is None:
            raise EvidenceError("unsupported")
        if size[0] * size[1] > MAX_WEBP_PIXELS:
            raise EvidenceError("too_big_picture")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check (above 89 MP) would only warn: a refusal here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise EvidenceError("too_big_picture") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise EvidenceError("unsupported") from error


def _decode(opened: Image.Image) -> Image.Image:
    """The pixels, decoded within the budget (a large JPEG at half size), upright."""
    width, height = opened.size
    if opened.format in ("JPEG", "MPO") and MAX_PIXELS < width * height <= MAX_JPEG_PIXELS:
        opened.draft(opened.mode, ((width + 1) // 2, (height + 1) // 2))
    elif width * height > MAX_PIXELS:
        raise EvidenceError("too_big_picture")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened.load()
            # The EXIF orientation goes into the pixels, so the picture stays upright
            # without it (in place: no second copy).
            ImageOps.exif_transpose(opened, in_place=True)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as error:
        raise EvidenceError("unsupported") from error
    if opened.width * opened.height > MAX_PIXELS:
        raise EvidenceError("too_big_picture")
    return opened


def clean_picture(data: bytes) -> tuple[bytes, str]:
    """Re-encodes a JPEG, PNG or WebP from its pixels only; returns the bytes and their type.

    A JPEG stays a JPEG; a PNG stays a PNG; a WebP becomes a PNG if it has transparency,
    a JPEG otherwise (encoding a large WebP is slow and takes much memory).
    """
    with _open(data) as opened:
        source = opened.format or ""
        image = _decode(opened)
        transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        if source in ("JPEG", "MPO") or (source == "WEBP" and not transparent):
            target, mime = "JPEG", "image/jpeg"
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
        else:
            target, mime = "PNG", "image/png"
            if "transparency" in image.info:
                image = image.convert("RGBA")
        # Only the pixels: what the decoder read beside them (EXIF, XMP, ICC profile,
        # comments, text chunks) is forgotten here, and the encoder is given nothing else.
        # In place rather than copied: a copy of 40 MP is 160 MB more.
        image.info.clear()
        out = io.BytesIO()
        image.save(out, format=target, **({"quality": JPEG_QUALITY} if target == "JPEG" else {}))
    return out.getvalue(), mime
