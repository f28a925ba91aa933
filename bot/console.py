"""The console adapter: the same conversations in a terminal (`somos chat`)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable

from bot.commands import event_from_text
from bot.conversations import Conversations
from bot.i18n import render, render_label, translations
from flows.engine import Command, Event, Pick, Reply, Text

QUIT_WORDS = {"/salir", "/exit"}


def format_replies(replies: list[Reply], locale: str) -> tuple[str, list[Pick]]:
    """The text to print and the buttons, numbered from 1."""
    catalog = translations(locale)
    lines: list[str] = []
    picks: list[Pick] = []
    for reply in replies:
        lines.append(render(reply.text, catalog))
        for choice in reply.choices:
            picks.append(Pick(choice.code, reply.step))
            lines.append(f"  [{len(picks)}] {render_label(choice, catalog)}")
        lines.append("")
    return "\n".join(lines), picks


def parse_input(line: str, picks: list[Pick]) -> Event:
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(picks):
        return picks[int(text) - 1]
    return event_from_text(text) if text.startswith("/") else Text(line)


async def run_console(
    conversations: Conversations,
    *,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
    locale: str = "es",
) -> None:
    """Runs one conversation until /salir or end of input."""
    pseudonym = await conversations.chat_pseudonym("console-" + secrets.token_hex(16))
    turn = await conversations.handle(pseudonym=pseudonym, event=Command("start"))
    while True:
        text, picks = format_replies(turn.replies, turn.state.locale or locale)
        write(text)
        if turn.wipe:
            # A terminal has no message history the bot could delete; the draft is gone.
            return
        try:
            line = await asyncio.to_thread(read, "> ")
        except EOFError:
            await conversations.handle(pseudonym=pseudonym, event=Command("salir"))
            return
        turn = await conversations.handle(pseudonym=pseudonym, event=parse_input(line, picks))
