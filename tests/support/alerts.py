"""Early warnings stored straight into the store, with the figures a test needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.models import Alert
from storage.store import Store
from tests.support.places import TUMACO

WINDOW_END = datetime(2026, 6, 15, tzinfo=UTC)


async def stored_alert(
    store: Store, municipality: str = TUMACO, *, observed: int = 20, baseline: int = 30,
    perturbed: tuple[int, int] | None = None, kind: str = "threat",
    category: str | None = None,
) -> str:
    """An alert of the 14 days before WINDOW_END over 6 baseline windows; its id.
    `perturbed`: (observed, baseline) as an analyst would see them (default: the same)."""
    shown = perturbed or (observed, baseline)
    alert = Alert(municipality_code=municipality, department_code=municipality[:2], kind=kind,
                  category=category, window_start=WINDOW_END - timedelta(days=14),
                  window_end=WINDOW_END, observed=observed, baseline=baseline,
                  baseline_windows=6, p_value=1e-7, observed_perturbed=shown[0],
                  baseline_perturbed=shown[1], created_at=WINDOW_END)
    async with store.transaction() as session:
        session.add(alert)
        await session.flush()
        return alert.id
