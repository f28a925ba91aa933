"""Somebody in a Telegram chat, driving the bot's unit of work in this process."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.conversations import Conversations, Offer, Turn, Upload
from flows.engine import Command, Event, Pick, Reply, Text
from flows.paging import PAGE_PREFIX
from storage.attachments import File
from tests.support.places import TUMACO

PHOTO = File({"kind": "photo", "mime": "image/jpeg", "size": 9}, b"\xff\xd8\xff-photo")
Items = list[Event | Upload | str]
# A threat against a leader in Tumaco with a photo; no danger now; news: yes.
THREAT: Items = [Command("start"), "threat", "no", Text("tumaco"), f"mun:{TUMACO}",
                 "target.leader", "threat.extortion", "channel.pamphlet", "actor.armed_group",
                 "when.this_week", Text("Nos dejaron un panfleto."), Upload(PHOTO), "done", "yes",
                 "confirm"]
STIGMA: Items = [Command("start"), "stigma", Text("tumaco"), f"mun:{TUMACO}",
                 "leadership.afro_council", "stigma.by_public_official", "stigma_channel.media",
                 Text("Dijo que somos guerrilla."), "skip", "stigma_effect.isolation", "done",
                 "no", "confirm"]


class Person:
    """Somebody in one Telegram chat, pressing the buttons the bot shows."""

    def __init__(self, conversations: Conversations, chat_id: int) -> None:
        self.conversations = conversations
        self.chat_id = chat_id
        self.shown: list[Reply] = []
        self.update_id = chat_id * 1000

    async def send(self, item: Event | Upload | Offer | str) -> Turn:
        if isinstance(item, str):
            await self._page_to(item)
            offered = {c.code: r.step for r in self.shown for c in r.choices}
            assert item in offered, f"{item!r} not on screen: {sorted(offered)}"
            item = Pick(item, offered[item])
        self.update_id += 1
        pseudonym = await self.conversations.chat_pseudonym(self.chat_id)
        turn = await self.conversations.handle(pseudonym=pseudonym, event=item,
                                               update_id=self.update_id, chat_id=self.chat_id)
        self.shown = list(turn.replies)
        return turn

    async def _page_to(self, code: str) -> None:
        """Turns pages ("Más opciones ▸", then "◂ Anteriores") until `code` is on screen."""
        tried: set[str] = set()
        while code not in {c.code for r in self.shown for c in r.choices}:
            pages = sorted((c.code for r in self.shown for c in r.choices
                            if c.code.startswith(PAGE_PREFIX) and c.code not in tried),
                           key=lambda page: int(page.removeprefix(PAGE_PREFIX)), reverse=True)
            if not pages:
                return
            tried.add(pages[0])
            await self.send(pages[0])

    async def do(self, items: Sequence[Event | Upload | str]) -> Turn:
        turn = None
        for item in items:
            turn = await self.send(item)
        assert turn is not None
        return turn

    def receipt(self) -> str:
        digits = [re.sub(r"\D", "", str(v)) for r in self.shown for v in r.text.params.values()]
        (code,) = [d for d in digits if len(d) == 16]
        return code

