"""A conversation across the turn of a chat epoch: the draft goes on, the wipe still finds
the messages of the day before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from bot.conversations import Conversations, Turn
from bot.telegram import TelegramTransport
from flows.conversation import build_flow
from flows.engine import Command, Event, Pick, Reply, Text
from flows.menu import LANGUAGE
from flows.municipalities import Catalog
from storage.epochs import EPOCH_LENGTH, epoch_start
from storage.models import ChatPreference, Draft
from storage.store import Store
from tests.support.places import TUMACO

CHAT = 7_200_000_001


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Phone:
    """The Bot API as far as the wipe uses it: which messages were deleted."""

    def __init__(self) -> None:
        self.deleted: list[int] = []

    async def delete_message(self, *, chat_id: int, message_id: int) -> Any:
        self.deleted.append(message_id)
        return True


async def test_a_draft_begun_before_the_epoch_turns_goes_on_after_it(store: Store) -> None:
    boundary = epoch_start(datetime.now(UTC)) + EPOCH_LENGTH
    clock = Clock(boundary - timedelta(minutes=3))
    conversations = Conversations(store=store, flow=build_flow(Catalog.load()), clock=clock)

    shown: list[Reply] = []

    async def press(pseudonym: str, item: Event | str) -> Turn:
        nonlocal shown
        if isinstance(item, str):
            (step,) = {r.step for r in shown for c in r.choices if c.code == item}
            item = Pick(item, step)
        turn = await conversations.handle(pseudonym=pseudonym, event=item)
        shown = turn.replies
        return turn

    before = await conversations.chat_pseudonym(CHAT)
    for item in (Command("start"), "page:1", LANGUAGE, "threat", "no", Text("tumaco")):
        await press(before, item)
    clock.now = boundary + timedelta(minutes=2)
    after = await conversations.chat_pseudonym(CHAT)
    assert after != before
    turn = await press(after, f"mun:{TUMACO}")

    assert "target.leader" in [c.code for r in turn.replies for c in r.choices]
    assert turn.state.locale == "en"
    async with store.transaction() as session:
        drafts = (await session.exec(select(Draft.pseudonym))).all()
        preference = await session.get(ChatPreference, after)
    assert drafts == [after]
    assert preference is not None and preference.locale == "en"


async def test_the_wipe_deletes_messages_recorded_in_the_previous_epoch(store: Store) -> None:
    clock = Clock(datetime.now(UTC))
    conversations = Conversations(store=store, flow=build_flow(Catalog.load()), clock=clock)
    transport = TelegramTransport(conversations)
    await transport.remember(await conversations.chat_pseudonym(CHAT), [1, 2])
    clock.now += EPOCH_LENGTH
    await transport.remember(await conversations.chat_pseudonym(CHAT), [3])

    phone = Phone()
    await transport.wipe(phone, CHAT, also=[4])
    assert phone.deleted == [4, 3, 2, 1]
