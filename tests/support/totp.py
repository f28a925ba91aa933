"""Codes from the staff's authenticator app, as the server accepts them: each code once.

The server spends the 30-second step of every accepted code (storage.users.spend_totp), and
accepts one step of clock drift either side. A test that signs the same person in several
times must type a newer code each time, as a person would wait for their app to show the
next one. `fresh_code` hands out, oldest first, the previous step's code (while it stays
good for MARGIN seconds more), the current step's, then the next step's, and waits for the
clock only when all of them are spent: three sign-ins in a row cost no waiting.
"""

from __future__ import annotations

import threading
import time

import pyotp

# How long a code must stay good after it is handed out: time enough for the test to send
# it and for the server to check the password first, on a busy machine.
MARGIN = 10.0

_spent: dict[str, int] = {}
_lock = threading.Lock()


def fresh_code(secret: str) -> str:
    """A code for `secret` that no earlier call returned."""
    totp = pyotp.TOTP(secret)
    with _lock:
        while True:
            now = time.time()
            current = totp.timecode(now)
            left = (current + 1) * totp.interval - now  # until the current step ends
            oldest = current - 1 if left >= MARGIN else current
            step = max(oldest, _spent.get(secret, oldest - 1) + 1)
            if step <= current + 1:
                _spent[secret] = step
                return totp.generate_otp(step)
            time.sleep(left + 0.05)


def other_code(secret: str) -> str:
    """A six-digit code that is not any code the server accepts right now."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time())
    near = {totp.generate_otp(step) for step in range(current - 2, current + 3)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444", "555555")
                if code not in near)
