"""Delivers the outbox: content-free pings to focal points and news pings to reporters.

Rows are leased in one short transaction, sent without holding the database,
and settled in another, so a slow Telegram never blocks reports being written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from telegram.error import Forbidden, TelegramError

from bot.i18n import render, translations
from flows.engine import Msg
from flows.messages import N_
from flows.municipalities import Catalog
from flows.summary import MSG_NEWS_PING
from storage.models import OutboxMessage, User
from storage.outbox import NO_CHAT, due_messages, mark_failed, mark_sent
from storage.store import Store
from storage.users import staff_chat_of

LEASE = timedelta(minutes=5)
MESSAGES: Mapping[str, str] = {
    "new_report": N_("Nuevo reporte en su bandeja — {municipality}"),
    "immediate_alert": N_("🚨 Nuevo reporte urgente en su bandeja — {municipality}. Revíselo ya."),
    "overdue": N_("⏰ Un reporte de {municipality} pasó su plazo sin atención."),
    "overdue_digest": N_(
        "⏰ {count} reportes pasaron su plazo sin atención ({places}). Revise la bandeja."
    ),
    "protection_request": N_("🛡️ Solicitud de protección en un reporte de {municipality}."),
    # Neutral on a lock screen; the consent question quotes it word for word.
    "reporter_news": MSG_NEWS_PING,
    # Not even the place: what the reporter wrote is read on the case page only.
    "reporter_reply": N_("Hay una respuesta nueva en un caso suyo. Ábralo en Somos."),
    "case_assigned": N_("Le asignaron un caso. Ábralo en Somos."),
    # Not the place, the kind or a count: a seized phone must not tell where things rise.
    "early_warning": N_("Hay una alerta temprana nueva en su zona. Ábrala en Somos."),
}


def _municipality(code: str) -> str:
    found = Catalog.load(departments=None).get(code)
    return found.label if found else code


# Places named in an overdue digest; the rest are counted ("y 4 más").
DIGEST_PLACES = 3
MSG_MORE_PLACES = N_("{places} y {more} más")


def _message(kind: str, payload: Mapping[str, Any]) -> Msg:
    codes = [str(c) for c in payload.get("municipalities", [])]
    if kind == "overdue" and len(codes) > 1:
        # Most affected places first, each once.
        ranked = sorted(set(codes), key=lambda c: (-codes.count(c), c))
        named = ", ".join(_municipality(c) for c in ranked[:DIGEST_PLACES])
        places: str | Msg = named
        if len(ranked) > DIGEST_PLACES:
            places = Msg(MSG_MORE_PLACES, {"places": named, "more": len(ranked) - DIGEST_PLACES})
        return Msg(MESSAGES["overdue_digest"], {"count": len(codes), "places": places})
    if kind in ("reporter_news", "reporter_reply", "case_assigned", "early_warning"):
        return Msg(MESSAGES[kind])  # nothing of the report, not even its place
    code = codes[0] if codes else str(payload.get("municipality", ""))
    return Msg(MESSAGES[kind], {"municipality": _municipality(code)})


async def _target(store: Store, kind: str, payload: Mapping[str, Any]) -> int | None:
    async with store.transaction() as session:
        if kind == "reporter_news":
            chat = payload.get("chat")
            return chat if isinstance(chat, int) else None
        user = await session.get(User, str(payload.get("user_id")))
        if user is None or user.disabled:
            return None
        return staff_chat_of(keyring=store.keyring, user=user)


async def deliver_due(*, store: Store, bot: Any, now: datetime, locale: str = "es") -> int:
    """Sends what is due; failures are retried with backoff by the outbox. Returns sent count."""
    async with store.transaction() as session:
        due = await due_messages(session=session, keyring=store.keyring, now=now)
        for pending in due:
            pending.row.next_attempt_at = now + LEASE
            session.add(pending.row)
    sent = 0
    outcomes: list[tuple[OutboxMessage, str | None, bool]] = []
    catalog = translations(locale)
    for pending in due:
        kind, payload = pending.row.kind, pending.payload
        chat_id = await _target(store, kind, payload)
        if chat_id is None:
            outcomes.append((pending.row, NO_CHAT, False))
            continue
        text = render(_message(kind, payload), catalog)
        try:
            # Not forwardable or savable: the application's Defaults (bot/telegram.py).
            await bot.send_message(chat_id=chat_id, text=text)
        except Forbidden as error:  # the person blocked the bot: retrying will not help
            outcomes.append((pending.row, type(error).__name__, False))
        except TelegramError as error:
            outcomes.append((pending.row, type(error).__name__, True))
        else:
            outcomes.append((pending.row, None, False))
            sent += 1
    async with store.transaction() as session:
        for row, failure, retry in outcomes:
            fresh = await session.get(OutboxMessage, row.id)
            if fresh is None:
                continue
            if failure is None:
                mark_sent(session=session, row=fresh, now=now)
            else:
                # Not logged: a line now would date the report behind it to the second.
                # The row keeps the error and the metrics count it (`failed`, `no_chat`).
                mark_failed(session=session, row=fresh, now=now, error=failure, retry=retry)
    return sent
