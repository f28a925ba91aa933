"""The sandbox's worker: one evidence file, inside memory and CPU limits, then exit.

Started by `bot.sandbox.EvidenceSandbox` as `python -m bot.sandbox_worker MEMORY CPU`
with an empty environment (no keys, no bot token). Reads one request on stdin:
a JSON line (`kind`, `mime`, `max_bytes`, `size`) and `size` bytes of file. Writes one
answer on stdout: a JSON line, `{"ok": true, "kind", "mime", "size"}` followed by
`size` bytes, or `{"ok": false, "reason"}`. Nothing else is written anywhere.
"""

from __future__ import annotations

import json
import resource
import sys
from typing import Any

from bot.cleaning import clean
from bot.refusals import EvidenceError

MAX_REQUEST_LINE = 4096


def limit(*, memory_bytes: int, cpu_seconds: int) -> None:
    """Caps this process: address space, CPU time (SIGXCPU, then SIGKILL a second
    later), no core file (it would write the reporter's file to disk)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def answer(request: dict[str, Any], data: bytes) -> tuple[dict[str, Any], bytes]:
    try:
        meta, out = clean(kind=str(request["kind"]), data=data,
                          mime=request["mime"] if isinstance(request["mime"], str) else None,
                          max_bytes=int(request["max_bytes"]))
    except EvidenceError as error:
        return {"ok": False, "reason": error.reason}, b""
    except MemoryError:
        return {"ok": False, "reason": "failed"}, b""
    return {"ok": True, **meta}, out


def main() -> None:
    limit(memory_bytes=int(sys.argv[1]), cpu_seconds=int(sys.argv[2]))
    request = json.loads(sys.stdin.buffer.readline(MAX_REQUEST_LINE))
    data = sys.stdin.buffer.read(int(request["size"]))
    reply, out = answer(request, data)
    del data
    sys.stdout.buffer.write(json.dumps(reply).encode() + b"\n")
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
