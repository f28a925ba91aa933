"""How the property and fuzz tests draw their examples: fixed in `make test`, random in
`make fuzz`.

`make test` (and any plain `pytest`) loads the profile "somos": Hypothesis seeds each test
from a digest of the test itself (`derandomize`), keeps no example database, and has no
rule that depends on the clock (no deadline, no too-slow health check). Every run, on
every machine and xdist worker, draws the same examples in the same order, Schemathesis'
requests included (they are Hypothesis strategies run under the same settings): a failure
seen once is seen again, and a run that passed passes again.

`make fuzz` sets SOMOS_FUZZ=1: the profile "somos-fuzz" draws at random and each test asks
for SOMOS_FUZZ_SCALE times (20 unless set) as many examples. A failure there prints the
`@reproduce_failure` line that replays it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

FIXED = "somos"
RANDOM = "somos-fuzz"
FUZZING = os.environ.get("SOMOS_FUZZ", "0") == "1"
SCALE = int(os.environ.get("SOMOS_FUZZ_SCALE", "20")) if FUZZING else 1

settings.register_profile(FIXED, derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(RANDOM, derandomize=False, database=None, deadline=None,
                          print_blob=True, max_examples=100 * SCALE)


def load() -> str:
    """Loads the profile this run asks for (tests/conftest.py, before any test module)."""
    profile = RANDOM if FUZZING else FIXED
    settings.load_profile(profile)
    return profile


def examples(count: int) -> int:
    """`count` examples in `make test`; SOMOS_FUZZ_SCALE times as many in `make fuzz`."""
    return count * SCALE
