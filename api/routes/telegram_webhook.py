"""Telegram webhook: checks the secret header, then hands the update to PTB's queue."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from telegram import Update

from api.deps import SettingsDep
from api.problems import Problem

router = APIRouter(tags=["telegram"])


@router.post("/telegram/webhook", include_in_schema=False)
async def webhook(
    request: Request,
    settings: SettingsDep,
    secret: Annotated[str | None, Header(alias="X-Telegram-Bot-Api-Secret-Token")] = None,
) -> dict[str, bool]:
    """Queues one update for the bot when the secret matches."""
    application: Any = request.app.state.telegram
    if application is None or not settings.webhook_url:
        raise Problem(404, "El webhook de Telegram no está activo.")
    expected = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not expected or not hmac.compare_digest(secret or "", expected):
        raise Problem(403, "Token secreto del webhook incorrecto.")
    await application.update_queue.put(Update.de_json(await request.json(), application.bot))
    return {"ok": True}
