"""The yardstick for `bench/conversation_cost.py`: a hand-rolled python-telegram-bot bot
with the shape of Somos' threat report, that stores nothing.

Same questions, same buttons, same texts the simulated people wait for, one message per
question; each pressed button is answered and its keyboard removed (as Somos does, so a
person cannot press an old button twice); the receipt is 16 random digits. No database,
no encryption, no drafts, no gettext: what any bot of this shape costs on this machine.

    python bench/handrolled_bot.py TOKEN BASE_URL BASE_FILE_URL   (polls until killed)
"""

from __future__ import annotations

import secrets
import sys

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

THREAT = "🚨 Reportar una amenaza o situación de riesgo"
# (question, buttons): the threat report's closed questions after the municipality.
QUESTIONS = (
    ("¿Quién está en riesgo?", ("Yo", "Un líder, lideresa, defensor o defensora",
                                "Mi familia", "Mi comunidad")),
    ("¿Qué pasó?", ("Amenaza de muerte", "Extorsión o cobro de \"vacuna\"",
                    "Reclutamiento", "Desplazamiento")),
    ("¿Cómo llegó la amenaza?", ("Panfleto o escrito", "En persona", "Por teléfono")),
    ("¿Quién está detrás de la amenaza?", ("Un grupo armado", "No sé")),
    ("¿Cuándo pasó?", ("Hoy", "Esta semana", "Este mes")),
)


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=label[:60])]
                                 for label in labels])


async def ask(update: Update, text: str, *labels: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text, reply_markup=keyboard(*labels) if labels else None)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.chat_data.clear()  # type: ignore[union-attr]
    await ask(update, "¿Qué quiere hacer?", THREAT, "📢 Otra cosa")


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and context.chat_data is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    state = context.chat_data.get("step", "menu")
    if state == "menu":
        context.chat_data["step"] = "danger"
        await ask(update, "¿Alguien está en peligro ahora?", "Sí", "No")
    elif state == "danger":
        context.chat_data["step"] = "place"
        await ask(update, "¿En qué municipio pasó? Escriba el nombre.")
    elif state == "confirm_place":
        context.chat_data["step"] = 0
        await ask(update, *QUESTIONS[0][:1], *QUESTIONS[0][1])
    elif isinstance(state, int):
        following = state + 1
        if following < len(QUESTIONS):
            context.chat_data["step"] = following
            await ask(update, QUESTIONS[following][0], *QUESTIONS[following][1])
        else:
            context.chat_data["step"] = "description"
            await ask(update, "Cuente con sus palabras qué pasó.")
    elif state == "evidence":
        context.chat_data["step"] = "news"
        await ask(update, "¿Podemos avisarle por este chat cuando haya novedades?", "Sí", "No")
    elif state == "news":
        context.chat_data["step"] = "summary"
        await ask(update, "Revise su reporte:\n\nLugar: San Andrés de Tumaco (Nariño)\n"
                  f"Lo que contó: {context.chat_data.get('description', '')}",
                  "✅ Enviar reporte", "✏️ Corregir")
    elif state == "summary":
        context.chat_data.clear()
        code = f"{secrets.randbelow(10**16):016d}"
        grouped = " ".join(code[i:i + 4] for i in range(0, 16, 4))
        await ask(update, f"Su código de seguimiento es {grouped}. Guárdelo en un lugar seguro.")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and context.chat_data is not None
    state = context.chat_data.get("step")
    if state == "place":
        context.chat_data["step"] = "confirm_place"
        await ask(update, "¿Es San Andrés de Tumaco (Nariño)?", "Sí", "No")
    elif state == "description":
        context.chat_data["description"] = message.text or ""
        context.chat_data["step"] = "evidence"
        await ask(update, "¿Tiene fotos, documentos o audios? Envíelos aquí.", "Omitir")


def main() -> None:
    token, base_url, base_file_url = sys.argv[1:4]
    application = (
        Application.builder().token(token).base_url(base_url).base_file_url(base_file_url)
        .concurrent_updates(True).build()
    )
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    application.run_polling(poll_interval=0.0, timeout=10)


if __name__ == "__main__":
    main()
