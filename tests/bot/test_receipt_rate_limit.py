"""Wrong receipt codes are rate-limited; the right code works once the window passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.conversations import Conversations
from flows.conversation import build_flow
from flows.engine import Command, Pick, Text
from flows.municipalities import Catalog
from storage.reports import NewReport, submit_report
from storage.store import Store
from tests.support.places import TUMACO


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_ten_wrong_codes_then_the_right_one_after_the_window(store: Store) -> None:
    async with store.transaction() as session:
        submitted = await submit_report(
            session=session, keyring=store.keyring, argon2_params=store.argon2,
            now=datetime(2026, 11, 28, 11, 0, tzinfo=UTC),
            report=NewReport(kind="threat", category="threat.other", municipality_code=TUMACO,
                             urgency="normal", answers={}),
        )
    code = submitted.receipt_code
    assert code is not None
    wrong = ("1" if code[0] != "1" else "2") + code[1:]
    clock = Clock()
    conversations = Conversations(store=store, flow=build_flow(Catalog.load()), clock=clock)
    chat = await conversations.chat_pseudonym(5550001)

    async def try_code(text: str) -> list[str]:
        await conversations.handle(pseudonym=chat, event=Command("start"))
        await conversations.handle(pseudonym=chat, event=Pick("followup", "menu"))
        turn = await conversations.handle(pseudonym=chat, event=Text(text))
        return [reply.text.msgid for reply in turn.replies]

    outcomes = []
    for _ in range(10):
        outcomes.append(await try_code(wrong))
        clock.now += timedelta(seconds=20)
    assert any("No encontré" in m for m in outcomes[0])
    assert any("Hubo muchos intentos" in m for m in outcomes[-1])
    assert any("Hubo muchos intentos" in m for m in await try_code(code))

    clock.now += timedelta(minutes=16)
    found = await try_code(code)
    assert any("bandeja del equipo de protección" in m for m in found), found
