"""The end of a report: consent to be notified, and the summary lines shown before sending."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows import taxonomy
from flows.engine import Msg, Next
from flows.messages import N_
from flows.municipalities import Catalog
from flows.selection import ranked_list
from flows.steps import ChoiceStep, SummaryLine

MSG_SUMMARY = N_("Revise su reporte antes de enviarlo:\n{details}")
# The whole news ping (bot/notifier.py sends it): a lock screen shows it to whoever holds
# the phone, so it names no report, threat, code or organization.
MSG_NEWS_PING = N_("Hay un mensaje nuevo para usted. Escriba /start para verlo.")
MSG_ASK_NOTIFY = N_(
    "¿Podemos avisarle por este chat cuando haya novedades? El aviso dirá solo esto:\n"
    "«{ping}»\n"
    "Para leer la novedad, escriba /start, elija «Seguimiento» y escriba su código."
)
MSG_LINE_MUNICIPALITY = N_("Municipio: {value}")
MSG_LINE_NOTIFY = N_("Avisos por este chat: {value}")
MSG_VOICE_NOTE = N_("(nota de voz)")
MSG_BULLET = N_("• {item}")


def notify_step(step_id: str, next_step: Next) -> ChoiceStep:
    """May we write here when there is news? "No" comes first: it is the default."""
    ask = Msg(MSG_ASK_NOTIFY, {"ping": Msg(MSG_NEWS_PING)})
    return ChoiceStep(step_id, ask, taxonomy.NO_YES, next_step, key="notify")


def coded_line(msgid: str, key: str) -> SummaryLine:
    def line(answers: Mapping[str, Any]) -> Msg | None:
        code = answers.get(key)
        return Msg(msgid, {"value": Msg(taxonomy.label(code))}) if code else None

    return line


def coded_list_line(msgid: str, key: str) -> SummaryLine:
    """A line and one bullet per code: 'Qué pasó después:\n• …\n• …'."""

    def line(answers: Mapping[str, Any]) -> Msg | None:
        codes = answers.get(key)
        if not isinstance(codes, list) or not codes:
            return None
        items = tuple(Msg(MSG_BULLET, {"item": Msg(taxonomy.label(str(c)))}) for c in codes)
        return Msg(msgid, {"value": items})

    return line


def ranked_line(msgid: str, key: str, options: Mapping[str, str]) -> SummaryLine:
    def line(answers: Mapping[str, Any]) -> Msg | None:
        codes = answers.get(key)
        if not isinstance(codes, list) or not codes:
            return None
        known = [code for code in codes if isinstance(code, str) and code in options]
        return Msg(msgid, {"value": ranked_list(known, options)}) if known else None

    return line


def text_line(msgid: str, key: str) -> SummaryLine:
    """Free text as written, or "(nota de voz)" when a voice note answered instead (the
    chat's summary shortens long texts: `flows.steps.ConfirmStep`; the focal point's page
    shows them whole)."""

    def line(answers: Mapping[str, Any]) -> Msg | None:
        value = answers.get(key)
        if value:
            return Msg(msgid, {"value": str(value)})
        if answers.get(f"{key}_voice"):
            return Msg(msgid, {"value": Msg(MSG_VOICE_NOTE)})
        return None

    return line


def count_line(msgid: str, key: str) -> SummaryLine:
    def line(answers: Mapping[str, Any]) -> Msg | None:
        items = answers.get(key)
        return Msg(msgid, {"count": len(items)}) if isinstance(items, list) and items else None

    return line


def municipality_line(catalog: Catalog) -> SummaryLine:
    def line(answers: Mapping[str, Any]) -> Msg | None:
        found = catalog.get(str(answers.get("municipality", "")))
        return Msg(MSG_LINE_MUNICIPALITY, {"value": found.label}) if found else None

    return line
