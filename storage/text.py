"""Marks refusal texts that reach people as Spanish msgids for the catalogs.

Storage raises its refusals in Spanish (the source language); the web pages show them
through gettext, so a text marked here reads in English on an English page. Storage
imports nothing of the project, hence this marker of its own.
"""

from __future__ import annotations


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for "no-op" marking
    return msgid
