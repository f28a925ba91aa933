"""How fast a password may be guessed: one rule for every place a password is checked
(signing in on the API and the web, changing one's own password).

Usernames are easy to guess (`admin`, a municipality's name), so a limit per username
alone would let anyone lock a person out by failing in their name. The limits are:

- **Per username and address** (the client's address; IPv6 by /64, which one
  subscriber usually holds whole). The first FREE_FAILURES attempts are answered. After
  that the n-th attempt is answered no sooner than FIRST_WAIT × (2^(n − FREE_FAILURES)
  − 1) after the first attempt of the window (1, 3, 7, 15, 31… minutes: each wait twice
  the one before). An earlier attempt is refused (429 with Retry-After) without checking
  anything and without counting. The count starts over PAIR_WINDOW after the first
  attempt, or when a password and code are right from that address. That is at most
  fifteen answered guesses a day per address and username.
- **Per username**, from any address: every answered attempt counts in USER_WINDOW.
  Past USER_FREE of them, each further attempt waits USER_STEP more before its answer,
  up to USER_CEILING. Never refused: failing from elsewhere cannot keep the person out.

The rate-limit table holds only HMACs of the username (and address) under the server's
pepper, a count and the minute the window began; rows are deleted after a day.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.chats import count_attempt, forget_attempts, record_attempt, uncount_attempt
from storage.keyfile import Keyring

FREE_FAILURES = 5
FIRST_WAIT = timedelta(minutes=1)
# Also how long `expire_chat_bookkeeping` keeps a rate-limit row.
PAIR_WINDOW = timedelta(hours=24)
USER_FREE = 10
USER_WINDOW = timedelta(minutes=15)
USER_STEP = 0.5  # seconds
USER_CEILING = 3.0  # seconds
# 2^20 minutes is far past the window: bigger exponents (many attempts at once, each
# counted before being refused) change nothing and would overflow a timedelta.
_MAX_DOUBLINGS = 20


@dataclass(frozen=True)
class Admission:
    """Whether a password may be checked now: refused for `retry_after` seconds, or
    answered after `delay` seconds."""

    retry_after: int = 0
    delay: float = 0.0

    @property
    def refused(self) -> bool:
        return self.retry_after > 0


def address_group(address: str) -> str:
    """The address as the limits count it: IPv4 as is, IPv6 by its /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP address (a Unix socket): as given
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _pair_key(keyring: Keyring, username: str, address: str) -> str:
    pair = f"{username.casefold()}\x00{address_group(address)}"
    return "pw-from:" + keyring.pseudonym(pair, "password-from")


def _user_key(keyring: Keyring, username: str) -> str:
    return "pw-user:" + keyring.pseudonym(username.casefold(), "password-user")


def answered_from(first: datetime, attempt: int) -> datetime:
    """The earliest time the `attempt`-th attempt of a window begun at `first` is answered."""
    doublings = min(max(attempt - FREE_FAILURES, 0), _MAX_DOUBLINGS)
    return first + FIRST_WAIT * ((1 << doublings) - 1)


def user_delay(attempts: int) -> float:
    """Seconds the `attempts`-th answered attempt for a username waits before its answer."""
    return min(USER_CEILING, USER_STEP * max(attempts - USER_FREE, 0))


async def admit_password_check(
    *, session: AsyncSession, keyring: Keyring, username: str, address: str, now: datetime
) -> Admission:
    """Counts an attempt to check `username`'s password from `address`, and says whether it
    may be checked. Counts are upserts: attempts made at the same moment each get their
    own number, so a burst cannot slip past the limit.

    Counting must outlast a failed attempt: the caller commits at once, whatever follows."""
    pair_key = _pair_key(keyring, username, address)
    attempt, first = await record_attempt(session=session, key=pair_key, window=PAIR_WINDOW,
                                          now=now)
    opens = answered_from(first, attempt)
    if now < opens:
        await uncount_attempt(session=session, key=pair_key)
        wait = min(opens, first + PAIR_WINDOW) - now
        return Admission(retry_after=max(1, math.ceil(wait.total_seconds())))
    tried = await count_attempt(session=session, key=_user_key(keyring, username),
                                window=USER_WINDOW, now=now)
    return Admission(delay=user_delay(tried))


async def forget_password_failures(
    *, session: AsyncSession, keyring: Keyring, username: str, address: str
) -> None:
    """After a right password (and code) from `address`: its earlier failures are forgotten.
    The username's own count stays: it only slows, and an attack may still be going on."""
    await forget_attempts(session=session, key=_pair_key(keyring, username, address))
