"""Evidence files: made to carry only what they show before anything is encrypted or stored.

A photo's EXIF can hold the GPS position of whoever took it and the phone's serial;
a PDF can hold authors, thumbnails with their own EXIF, attached files, scripts and
links that call home; an audio file's tags and chunks can hold a name, a place, a
date. So pictures are re-encoded from their pixels (`bot/pictures.py`), PDFs become
pictures of their pages (`bot/documents.py`), and audio keeps only its sound
(`bot/audio.py`: WAV, Ogg Opus/Vorbis and MP3; M4A, AAC and WebM are refused, as
containers whose metadata cannot be ruled out). The transports call
`bot.sandbox.EvidenceSandbox.prepare`, which runs `bot.cleaning.clean` in a worker
process with memory and time limits; `prepare` here is the same work in-process.
When a file is refused, `refusal(error)` is what to tell the person.
"""

from __future__ import annotations

from bot.cleaning import MAX_PAGES, clean
from bot.refusals import REFUSALS, EvidenceError
from flows.engine import Msg
from storage.attachments import MAX_ATTACHMENT_BYTES, File

__all__ = ["REFUSALS", "EvidenceError", "File", "prepare", "refusal"]

_MEGABYTE = 1024 * 1024


def prepare(*, kind: str, data: bytes, mime: str | None) -> File:
    """Checks size and type and keeps only what the file shows; in this process."""
    meta, clean_data = clean(kind=kind, data=data, mime=mime, max_bytes=MAX_ATTACHMENT_BYTES)
    return File(meta, clean_data)


def refusal(error: EvidenceError) -> Msg:
    """What to tell the person whose file was refused, and why, in plain words."""
    return Msg(REFUSALS[error.reason],
               {"megabytes": MAX_ATTACHMENT_BYTES // _MEGABYTE, "pages": MAX_PAGES})
