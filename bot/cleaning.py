"""Which evidence is taken, and how each kind is made to carry only what it shows.

The pure work the sandbox's worker process runs on one file (`bot/sandbox_worker.py`)
and `bot.evidence.prepare` runs in-process. It imports no part of storage (SQLAlchemy
would add half a second and 60 MB to every worker).
"""

from __future__ import annotations

from bot.refusals import EvidenceError

# Evidence is a letter, a pamphlet, a screenshot: a few pages. Rendering takes
# 0.1–0.5 s a page, so 30 pages stay well inside the worker's time limit.
MAX_PAGES = 30

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
AUDIO_TYPES = frozenset(
    {"audio/ogg", "audio/mpeg", "audio/mp3", "audio/wav", "audio/x-wav", "audio/wave",
     "audio/opus", "audio/vorbis"}
)
KINDS = frozenset({"photo", "document", "voice", "audio"})
MIMES = frozenset({"image/jpeg", "image/png", "application/pdf", "audio/wav", "audio/ogg",
                   "audio/mpeg"})


def clean(*, kind: str, data: bytes, mime: str | None,
          max_bytes: int) -> tuple[dict[str, str | int], bytes]:
    """The file's meta (kind, type, size) and its clean bytes; raises EvidenceError.

    Pictures are re-encoded from their pixels, PDFs become pictures of their pages,
    audio keeps only its sound. The file name is never kept.
    """
    # Here, not above: only the worker decodes files, so the server never loads Pillow,
    # pypdfium2 or mutagen (about 12 MiB) to read the kinds and types below.
    from bot.audio import clean_audio
    from bot.documents import clean_pdf
    from bot.pictures import clean_picture

    if len(data) > max_bytes:
        raise EvidenceError("too_large")
    mime = (mime or "").lower()
    if kind == "photo" or mime in IMAGE_TYPES:
        out, out_mime = clean_picture(data)
        out_kind = "photo"
    elif mime == "application/pdf":
        out, out_mime = clean_pdf(data, max_bytes=max_bytes), "application/pdf"
        out_kind = "document"
    elif kind in ("voice", "audio") or mime in AUDIO_TYPES:
        out, out_mime = clean_audio(data)
        out_kind = kind if kind in ("voice", "audio") else "audio"
    else:
        raise EvidenceError("unsupported")
    if len(out) > max_bytes:
        raise EvidenceError("too_large")
    return {"kind": out_kind, "mime": out_mime, "size": len(out)}, out
