"""How `somos serve` gives memory back to the system (glibc only; elsewhere nothing happens).

The server's load comes in bursts: two hundred conversations at once, each with its key
derivations (19 to 32 MiB each, in worker threads), drafts, ORM objects and PTB updates.
glibc keeps what a burst freed: big blocks in the arena of the thread that used them (it
raises its mmap threshold as they are freed), small ones in heaps it trims only from the
top. Measured in bench/ (docs/BENCHMARKS.md, "RSS at idle").
"""

from __future__ import annotations

import ctypes
from functools import cache

M_MMAP_THRESHOLD = -3  # <malloc.h>
M_ARENA_MAX = -8


@cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - only glibc has it
    except (OSError, AttributeError):
        return None  # not glibc (musl, macOS): its allocator is left as it is
    return libc


def return_big_blocks_to_the_system() -> None:
    """A fixed 1 MiB mmap threshold maps every big block on its own and gives it back when it
    is freed (after a burst `somos serve` held about 120 MiB it no longer used, 268 MiB
    against 150 at rest); two arenas for the threads, not eight per core, so what one
    burst leaves behind is not spread over a dozen heaps."""
    if (libc := _libc()) is not None:
        libc.mallopt(M_MMAP_THRESHOLD, 1024 * 1024)
        libc.mallopt(M_ARENA_MAX, 2)


def trim() -> None:
    """Gives the free pages of every heap back to the system (`malloc_trim(0)`: a few
    milliseconds; the background loop calls it every 15 seconds)."""
    if (libc := _libc()) is not None:
        libc.malloc_trim(0)
