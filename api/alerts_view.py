"""Early warnings as the API and the pages show them: the sentence, the figures, who
acknowledged. `storage.alerts` decides who sees which alert and with which figures."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.labels import label_of, municipality_name
from bot.i18n import translations
from flows.messages import N_, NP_
from storage.alerts import AlertView

MSG_THREATS = NP_("Aumento inusual de amenazas en {place} en el último día",
                  "Aumento inusual de amenazas en {place} en los últimos {days} días")
MSG_STIGMA = NP_(
    "Aumento inusual de reportes de estigmatización en {place} en el último día",
    "Aumento inusual de reportes de estigmatización en {place} en los últimos {days} días")
MSG_CATEGORY = NP_("Aumento inusual de «{category}» en {place} en el último día",
                   "Aumento inusual de «{category}» en {place} en los últimos {days} días")
MSG_FIGURES = N_("{observed} reportes en la ventana; lo usual es {expected}.")


def sentence(view: AlertView, locale: str = "es") -> str:
    """«Aumento inusual de amenazas en Tumaco en los últimos 14 días»."""
    catalog = translations(locale)
    if view.category is not None:
        singular, plural = MSG_CATEGORY
    elif view.kind == "stigma":
        singular, plural = MSG_STIGMA
    else:
        singular, plural = MSG_THREATS
    return catalog.ngettext(singular, plural, view.window_days).format(
        place=municipality_name(view.municipality_code), days=view.window_days,
        category=label_of(view.category, locale) if view.category else "")


def figures(view: AlertView, locale: str = "es") -> str:
    return translations(locale).gettext(MSG_FIGURES).format(
        observed=view.observed, expected=f"{view.expected:g}")


class AlertOut(BaseModel):
    id: str
    sentence: str = Field(description="La alerta en una frase.")
    municipality_code: str
    municipality: str
    kind: str
    category: str | None = Field(description="Vacía: todo el tipo de reporte.")
    window_start: datetime
    window_end: datetime = Field(description="Fin de la ventana (excluido).")
    observed: int = Field(description="Reportes en la ventana. Para analistas, perturbado.")
    expected: float = Field(description="Reportes de una ventana usual del lugar (la línea "
                                        "base). Para analistas, perturbado.")
    exact: bool = Field(description="Falso para analistas: cifras perturbadas, como en los "
                                    "agregados, y solo si pasan la supresión.")
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None = Field(description="Solo para el equipo de la zona.")
    note: str | None = Field(description="Solo para el equipo de la zona.")

    @classmethod
    def of(cls, view: AlertView, locale: str = "es") -> AlertOut:
        return cls(
            id=view.id, sentence=sentence(view, locale),
            municipality_code=view.municipality_code,
            municipality=municipality_name(view.municipality_code), kind=view.kind,
            category=view.category, window_start=view.window_start, window_end=view.window_end,
            observed=view.observed, expected=view.expected, exact=view.exact,
            created_at=view.created_at, acknowledged_at=view.acknowledged_at,
            acknowledged_by=view.acknowledged_by, note=view.note)
