"""Audio rewritten with only its sound: WAV, Ogg (Opus or Vorbis) and MP3.

Deleting known tags is not enough: a WAV's LIST/INFO or `bext` chunk names the
recorder, a place and a date; an Ogg file can hold other streams beside the sound;
an MP3 carries ID3v2, ID3v1 and APE tags and whatever was put between its frames.
So each file is rebuilt from the parts that make the sound, and nothing else:

- WAV: the `fmt ` chunk (rewritten from its parsed fields) and the `data` chunk.
- Ogg: the first Opus or Vorbis stream: its identification header, an empty comment
  header (no vendor text, no comments), its setup header (Vorbis) and its audio
  pages, renumbered; other streams and chained streams are dropped.
- MP3: the MPEG Layer III frames, in one run; the encoder's tag inside the first
  (Xing/Info) frame is blanked, its frame count kept so the length stays right.

Anything else is refused: M4A/AAC/MP4 and WebM/Matroska are containers of nested
boxes or elements where any application can add its own metadata (and phones do:
makers, models, places, dates), and we cannot rule all of it out without a full
parser of each; FLAC, AMR and the rest are rare in a chat. Telegram's own voice
notes are Ogg Opus, so a voice note always goes through.
"""

from __future__ import annotations

import io
import struct
import zlib

from mutagen import MutagenError
from mutagen.mp3 import MP3
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from bot.refusals import EvidenceError

# --- WAV ---------------------------------------------------------------------------

_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
_SUBFORMATS = {  # WAVE_FORMAT_EXTENSIBLE's SubFormat GUIDs for PCM and IEEE float
    struct.pack("<IHH8s", tag, 0x0000, 0x0010, b"\x80\x00\x00\xaa\x00\x38\x9b\x71")
    for tag in (_PCM, _FLOAT)
}


def _unsupported() -> EvidenceError:
    return EvidenceError("unsupported")


def _wav_format(body: bytes) -> tuple[bytes, int]:
    """A `fmt ` chunk rebuilt from its fields (nothing carried over verbatim), and the
    size of one frame."""
    if len(body) < 16:
        raise _unsupported()
    tag, channels, rate, byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", body)
    if not (1 <= channels <= 32 and 1 <= rate <= 768_000 and bits in (8, 16, 24, 32, 64)
            and block_align == channels * bits // 8 and byte_rate == rate * block_align):
        raise _unsupported()
    fields = struct.pack("<HHIIHH", tag, channels, rate, byte_rate, block_align, bits)
    if tag == _PCM and bits <= 32:
        return fields, block_align
    if tag == _FLOAT and bits in (32, 64):
        return fields + b"\x00\x00", block_align
    if tag == _EXTENSIBLE and len(body) >= 40:
        extra, valid_bits, mask, subformat = struct.unpack_from("<HHI16s", body, 16)
        if extra >= 22 and 0 < valid_bits <= bits and subformat in _SUBFORMATS:
            return fields + struct.pack("<HHI16s", 22, valid_bits, mask, subformat), block_align
    raise _unsupported()


def clean_wav(data: bytes) -> bytes:
    """The WAV's `fmt ` and `data` chunks in a new RIFF file; every other chunk dropped."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise _unsupported()
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = 8 + riff_size
    if end > len(data):
        raise _unsupported()  # cut short: its chunk sizes cannot be trusted
    position, fmt, frame, samples = 12, b"", 0, None
    while position + 8 <= end:
        chunk, size = struct.unpack_from("<4sI", data, position)
        body = position + 8
        if body + size > end:
            raise _unsupported()
        if chunk == b"fmt ":
            if fmt:
                raise _unsupported()
            fmt, frame = _wav_format(data[body:body + size])
        elif chunk == b"data":
            if not fmt or samples is not None:
                raise _unsupported()
            samples = data[body:body + size - size % frame]  # whole frames only
        position = body + size + (size & 1)  # chunks are padded to an even size
    if samples is None:
        raise _unsupported()
    pad = b"\x00" * (len(samples) & 1)
    chunks = (b"fmt " + struct.pack("<I", len(fmt)) + fmt
              + b"data" + struct.pack("<I", len(samples)) + samples + pad)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


# --- Ogg ---------------------------------------------------------------------------

_BITSWAP = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))
_CONTINUED, _FIRST, _LAST = 0x01, 0x02, 0x04
_NO_GRANULE = 0xFFFFFFFFFFFFFFFF
_HEADER = struct.Struct("<4sBBQIIIB")


def _ogg_crc(page: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, not reflected) through zlib's reflected one."""
    crc = (~zlib.crc32(page.translate(_BITSWAP), 0xFFFFFFFF)) & 0xFFFFFFFF
    return int.from_bytes(crc.to_bytes(4, "big").translate(_BITSWAP), "little")


class _Page:
    __slots__ = ("flags", "granule", "serial", "lacing", "body")

    def __init__(self, flags: int, granule: int, serial: int, lacing: bytes,
                 body: bytes) -> None:
        self.flags, self.granule, self.serial = flags, granule, serial
        self.lacing, self.body = lacing, body

    def write(self, sequence: int) -> bytes:
        header = _HEADER.pack(b"OggS", 0, self.flags, self.granule, self.serial, sequence,
                              0, len(self.lacing))
        page = header + self.lacing + self.body
        return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def _read_pages(data: bytes) -> list[_Page]:
    """Every page, in order; a gap, a bad checksum or a cut page is refused."""
    pages, position = [], 0
    while position < len(data):
        if len(data) - position < _HEADER.size:
            raise _unsupported()
        magic, version, flags, granule, serial, _, crc, count = _HEADER.unpack_from(
            data, position)
        lacing = data[position + _HEADER.size:position + _HEADER.size + count]
        start = position + _HEADER.size + count
        body = data[start:start + sum(lacing)]
        if magic != b"OggS" or version != 0 or len(body) != sum(lacing):
            raise _unsupported()
        raw = data[position:start + len(body)]
        if _ogg_crc(raw[:22] + b"\x00\x00\x00\x00" + raw[26:]) != crc:
            raise _unsupported()
        pages.append(_Page(flags, granule, serial, lacing, body))
        position = start + len(body)
    return pages


def _only_packet(page: _Page) -> bytes | None:
    """The page's packet if it holds exactly one, whole (as a stream's first page does)."""
    lacing = page.lacing
    if lacing and lacing[-1] < 255 and all(value == 255 for value in lacing[:-1]):
        return page.body
    return None


def _split_headers(stream: list[_Page], count: int) -> tuple[list[bytes], int]:
    """The stream's first `count` packets, and how many pages they fill: they must end
    where a page ends (the sound starts on a fresh page, as the Ogg mappings say)."""
    packets: list[bytes] = []
    parts: list[bytes] = []
    for index, page in enumerate(stream):
        offset = 0
        for value in page.lacing:
            parts.append(page.body[offset:offset + value])
            offset += value
            if value < 255:
                packets.append(b"".join(parts))
                parts = []
        if len(packets) >= count:
            if len(packets) > count or parts:
                break
            return packets, index + 1
    raise _unsupported()


def _header_pages(serial: int, packets: list[bytes], first: bool) -> list[_Page]:
    """Pages holding whole header packets (granule 0), as the Ogg mappings ask."""
    pages: list[_Page] = []
    lacing, body, continued = b"", b"", False
    for packet in packets:
        values = b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
        position = 0
        while values:
            room = 255 - len(lacing)
            taken, values = values[:room], values[room:]
            size = sum(taken)
            lacing, body = lacing + taken, body + packet[position:position + size]
            position += size
            if len(lacing) == 255 and values:  # the packet goes on in the next page
                flags = (_CONTINUED if continued else 0) | (_FIRST if first and not pages else 0)
                pages.append(_Page(flags, _NO_GRANULE, serial, lacing, body))
                lacing, body, continued = b"", b"", True
        flags = (_CONTINUED if continued else 0) | (_FIRST if first and not pages else 0)
        pages.append(_Page(flags, 0, serial, lacing, body))
        lacing, body, continued = b"", b"", False
    return pages


def _codec(head: bytes) -> tuple[str, bytes, int] | None:
    """The codec of a stream's first packet, that packet trimmed to its defined length,
    and how many header packets the codec has."""
    if head.startswith(b"OpusHead") and len(head) >= 19 and head[8] >> 4 == 0 and head[9]:
        length = 19 if head[18] == 0 else 21 + head[9]
        if len(head) >= length:
            return "opus", head[:length], 2
    if head.startswith(b"\x01vorbis") and len(head) >= 30 and head[29] & 1:
        return "vorbis", head[:30], 3
    return None


_EMPTY_TAGS = {"opus": b"OpusTags" + bytes(8), "vorbis": b"\x03vorbis" + bytes(8) + b"\x01"}


def clean_ogg(data: bytes) -> bytes:
    """The first Opus or Vorbis stream alone, with an empty comment header."""
    pages = _read_pages(data)
    for start in (page for page in pages if page.flags & _FIRST):
        head = _only_packet(start)
        if head is not None and (found := _codec(head)) is not None:
            serial, (codec, head, header_count) = start.serial, found
            break
    else:
        raise _unsupported()
    stream: list[_Page] = []
    for page in pages:
        if page.serial == serial:
            stream.append(page)
            if page.flags & _LAST:
                break
    packets, header_pages = _split_headers(stream, header_count)
    sound = stream[header_pages:]
    if not sound or sound[0].flags & _CONTINUED:
        raise _unsupported()
    rebuilt = _header_pages(serial, [head], first=True)
    rebuilt += _header_pages(serial, [_EMPTY_TAGS[codec], *packets[2:]], first=False)
    for page in sound:
        page.flags &= ~(_FIRST | _LAST)
    sound[-1].flags |= _LAST
    out = b"".join(page.write(sequence) for sequence, page in enumerate([*rebuilt, *sound]))
    _check(OggOpus if codec == "opus" else OggVorbis, out)
    return out


# --- MP3 ---------------------------------------------------------------------------

_BITRATES = {  # kbit/s by MPEG version (1, or 2 and 2.5) for Layer III
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_TAGS = (b"ID3", b"TAG", b"APETAGEX", b"LYRICSBEGIN")


def _frame(data: bytes, position: int) -> tuple[int, tuple[int, int, int]] | None:
    """The length and (version, sample rate, channel mode) of a Layer III frame header."""
    if position + 4 > len(data) or data[position] != 0xFF or data[position + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[position + 1:position + 4]
    version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3 or b3 & 3 == 2:
        return None
    bitrate = _BITRATES[1 if version == 3 else 2][bitrate_index] * 1000
    rate = _RATES[version][rate_index]
    length = (144 if version == 3 else 72) * bitrate // rate + ((b2 >> 1) & 1)
    return length, (version, rate_index, b3 >> 6)


def _id3_length(data: bytes, position: int) -> int:
    """The length of an ID3v2 tag starting here (header, body, footer), or 0."""
    header = data[position:position + 10]
    if len(header) < 10 or header[:3] != b"ID3" or any(b & 0x80 for b in header[6:10]):
        return 0
    size = (header[6] << 21) | (header[7] << 14) | (header[8] << 7) | header[9]
    return 10 + size + (10 if header[5] & 0x10 else 0)


def _blank_encoder_tag(frame: bytes) -> bytes:
    """A Xing/Info frame keeps its counts and table (the length of a variable-bitrate
    file), and loses the encoder's tag that follows them."""
    version, mono = (frame[1] >> 3) & 3, frame[3] >> 6 == 3
    side = (17 if mono else 32) if version == 3 else (9 if mono else 17)
    offset = 4 + (0 if frame[1] & 1 else 2) + side
    if frame[offset:offset + 4] not in (b"Xing", b"Info") or len(frame) < offset + 8:
        return frame
    (flags,) = struct.unpack_from(">I", frame, offset + 4)
    kept = offset + 8 + 4 * (flags & 1) + 4 * (flags >> 1 & 1) + 100 * (flags >> 2 & 1) \
        + 4 * (flags >> 3 & 1)
    return frame[:kept] + bytes(max(0, len(frame) - kept))


def clean_mp3(data: bytes) -> bytes:
    """The MPEG audio frames alone: tags, and anything between frames, dropped."""
    frames: list[bytes] = []
    stream = None  # (version, sample rate, channel mode) of the frames kept
    position, synced = 0, False
    while position + 4 <= len(data):
        if tag := _id3_length(data, position):
            position, synced = position + tag, False
            continue
        found = _frame(data, position)
        if found is not None and stream in (None, found[1]):
            length, kind = found
            after = position + length
            # Right after a kept frame, a header is enough; anywhere else, a header could
            # be chance, so the next frame (or the end, or a tag) must follow it.
            following = _frame(data, after)
            if after <= len(data) and (synced or after == len(data)
                                       or data.startswith(_TAGS, after)
                                       or (following is not None and following[1] == kind)):
                frames.append(data[position:after])
                stream, position, synced = kind, after, True
                continue
        next_sync = data.find(b"\xff", position + 1)
        position, synced = (next_sync if next_sync >= 0 else len(data)), False
    if not frames:
        raise _unsupported()
    frames[0] = _blank_encoder_tag(frames[0])
    out = b"".join(frames)
    _check(MP3, out)
    return out


def _check(kind: type[OggOpus] | type[OggVorbis] | type[MP3], data: bytes) -> None:
    """What was written reads back as that kind of audio (a last guard against our bugs)."""
    try:
        kind(io.BytesIO(data))
    except (MutagenError, ValueError, struct.error) as error:
        raise _unsupported() from error


def clean_audio(data: bytes) -> tuple[bytes, str]:
    """The sound alone, found by its first bytes (the declared type is not trusted)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return clean_wav(data), "audio/wav"
    if data[:4] == b"OggS":
        return clean_ogg(data), "audio/ogg"
    if data[:3] == b"ID3" or _frame(data, 0) is not None:
        return clean_mp3(data), "audio/mpeg"
    raise _unsupported()
