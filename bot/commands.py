"""Typed commands, the same for every transport: /start, /salir, /ayuda and their aliases."""

from __future__ import annotations

from flows.engine import Command, Event, Text

COMMANDS = {"start": "start", "salir": "salir", "ayuda": "ayuda", "help": "ayuda",
            "exit": "salir", "menu": "start"}


def event_from_text(text: str) -> Event:
    """A command ("/salir", "/start@somos_bot") or plain text."""
    if text.startswith("/"):
        words = text[1:].split(maxsplit=1)
        name = words[0].split("@", 1)[0].lower() if words else ""
        return Command(COMMANDS.get(name, "start"))
    return Text(text)
