"""Evidence decoded in a worker process with memory, CPU and time limits.

Decoding a hostile file is the riskiest thing Somos does: a picture that
compresses 7000×7000 pixels into 87 KB took 1.3 GB and 6 s to strip, a PDF of
80,000 pages 9 s. So each file goes to a new, short-lived process
(`python -m bot.sandbox_worker`): its address space and CPU time are capped
(`setrlimit`), it gets an empty environment (none of the server's keys or tokens),
and the server kills it at the deadline. A bomb kills its worker, not the server;
the server never holds decoded pixels, only the file and the clean result.

One process per file rather than a pool: a pool cannot kill one task, and a worker
that read hostile bytes is not reused. Not `multiprocessing`: its `spawn` and
`forkserver` start methods re-import the server's main module (the whole app) in
every child, and pass it the server's environment; a plain `python -m` of a module
that imports only Pillow, PDFium and mutagen starts in 0.1–0.2 s of CPU.

The worker's answer is parsed as untrusted input: one JSON line of at most 4 KB,
its fields checked against fixed lists, and at most `MAX_ATTACHMENT_BYTES` read.
Nothing of a file is logged; a worker that fails is logged at debug level by the
name of what happened, so the server log says nothing while a report is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import sys
from pathlib import Path
from typing import Any

from bot.cleaning import KINDS, MIMES
from bot.refusals import REFUSALS, EvidenceError
from storage.attachments import MAX_ATTACHMENT_BYTES, File

log = logging.getLogger("somos.bot")

# The worker's address-space limit (virtual memory: Python, Pillow and PDFium take about
# 40 MB of it before any file). The largest files accepted peak under 300 MB resident
# (measured: a 40 MP JPEG 195 MB, a 40 MP PNG 180 MB, a 16 MP WebP 280 MB, 30 pages of
# photos in a PDF 70 MB) and all of them also go through at 320 MiB: 512 MiB leaves room.
DEFAULT_MEMORY_BYTES = 512 * 1024 * 1024
# A 12 MP photo takes under a second, a 30-page PDF a few seconds on one core.
DEFAULT_TIMEOUT = 30.0
_ANSWER_LINE = 4096
_ROOT = Path(__file__).resolve().parent.parent  # where the `bot` package is


class EvidenceSandbox:
    """Runs `bot.cleaning.clean` on one file per worker process, `workers` at a time."""

    def __init__(self, *, workers: int = 2, memory_bytes: int = DEFAULT_MEMORY_BYTES,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        if workers < 1 or memory_bytes < 1 or timeout <= 0:
            raise ValueError("workers, memory and timeout must be positive")
        self.memory_bytes = memory_bytes
        self.timeout = timeout
        self._slots = asyncio.Semaphore(workers)
        self._live: set[asyncio.subprocess.Process] = set()
        self._closed = False

    async def prepare(self, *, kind: str, data: bytes, mime: str | None) -> File:
        """The file made to carry only what it shows; raises EvidenceError (its reason
        is a key of `bot.evidence.REFUSALS`; "failed" when the worker died, ran out of
        memory or of time)."""
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise EvidenceError("too_large")
        async with self._slots:
            if self._closed:
                raise EvidenceError("failed")
            return await self._run(kind=kind, data=data, mime=mime)

    def close(self) -> None:
        """Kills the workers still running; later files are refused as "failed"."""
        self._closed = True
        for process in list(self._live):
            with contextlib.suppress(ProcessLookupError):
                process.kill()

    async def _run(self, *, kind: str, data: bytes, mime: str | None) -> File:
        # The CPU limit is a backstop behind the deadline: a worker stuck outside
        # Python's reach still dies by itself.
        cpu_seconds = math.ceil(self.timeout) + 1
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-s", "-B", "-m", "bot.sandbox_worker",
                str(self.memory_bytes), str(cpu_seconds),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL, env={"PYTHONPATH": str(_ROOT)},
                limit=_ANSWER_LINE,
            )
        except OSError as error:  # the server cannot start processes: say so, once a file
            log.warning("evidence worker could not start: %s", type(error).__name__)
            raise EvidenceError("failed") from None
        self._live.add(process)
        try:
            if self._closed:  # closed while the worker was starting
                raise EvidenceError("failed")
            async with asyncio.timeout(self.timeout):
                return await _exchange(process, kind=kind, data=data, mime=mime)
        except EvidenceError:
            raise
        except TimeoutError:
            log.debug("evidence worker timed out")
            raise EvidenceError("failed") from None
        except (OSError, EOFError, ValueError, asyncio.IncompleteReadError) as error:
            log.debug("evidence worker failed: %s", type(error).__name__)
            raise EvidenceError("failed") from None
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
            await process.wait()
            self._live.discard(process)


async def _exchange(process: asyncio.subprocess.Process, *, kind: str, data: bytes,
                    mime: str | None) -> File:
    if process.stdin is None or process.stdout is None:
        raise OSError("the worker has no pipes")
    request = {"kind": kind[:20], "mime": mime[:100] if mime else None,
               "max_bytes": MAX_ATTACHMENT_BYTES, "size": len(data)}
    process.stdin.write(json.dumps(request).encode() + b"\n")
    process.stdin.write(data)
    await process.stdin.drain()
    process.stdin.close()
    line = await process.stdout.readline()
    if not line.endswith(b"\n"):
        raise EOFError("the worker answered nothing")
    reply = json.loads(line)
    if not isinstance(reply, dict):
        raise ValueError("not an answer")
    if reply.get("ok") is not True:
        reason = reply.get("reason")
        raise EvidenceError(reason if isinstance(reason, str) and reason in REFUSALS
                            else "failed")
    meta = _meta(reply)
    clean = await process.stdout.readexactly(int(meta["size"]))
    return File(meta, clean)


def _meta(reply: dict[str, Any]) -> dict[str, str | int]:
    kind, mime, size = reply.get("kind"), reply.get("mime"), reply.get("size")
    if kind not in KINDS or mime not in MIMES or not isinstance(size, int) \
            or not 0 < size <= MAX_ATTACHMENT_BYTES:
        raise ValueError("not an answer")
    return {"kind": str(kind), "mime": str(mime), "size": size}
