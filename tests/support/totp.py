"""Codes from the staff's authenticator app, as the server accepts them: each code once.

The server spends the 30-second step of every accepted code (storage.users.spend_totp), so a
test that signs the same person in twice must type a newer code, as a person would wait for
their app to show the next one. `fresh_code` hands out the current step's code, then the
next step's (accepted from now on, one step of drift), and waits for the clock only when
both are spent.
"""

from __future__ import annotations

import threading
import time

import pyotp

_spent: dict[str, int] = {}
_lock = threading.Lock()


def fresh_code(secret: str) -> str:
    """A code for `secret` that no earlier call returned."""
    totp = pyotp.TOTP(secret)
    with _lock:
        while True:
            now = time.time()
            current = totp.timecode(now)
            step = max(current, _spent.get(secret, current - 1) + 1)
            if step <= current + 1:
                _spent[secret] = step
                return totp.generate_otp(step)
            time.sleep((current + 1) * totp.interval - now + 0.05)


def other_code(secret: str) -> str:
    """A six-digit code that is not any code the server accepts right now."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time())
    near = {totp.generate_otp(step) for step in range(current - 2, current + 3)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444", "555555")
                if code not in near)
