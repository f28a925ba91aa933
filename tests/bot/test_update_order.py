"""Updates of different chats at once, one chat's in order (bot/updates.py)."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.updates import PerChatOrder


def update(update_id: int, chat_id: int) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": "hola",
        "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Ana"},
    }}, None)


async def test_a_slow_chat_holds_its_own_updates_and_no_one_elses() -> None:
    processor = PerChatOrder()
    release = asyncio.Event()
    log: list[str] = []

    async def work(name: str, wait: bool = False) -> None:
        log.append(f"start {name}")
        if wait:
            await release.wait()
        log.append(f"end {name}")

    async with processor:
        tasks = [
            asyncio.create_task(processor.process_update(update(1, 100), work("a1", wait=True))),
            asyncio.create_task(processor.process_update(update(2, 100), work("a2"))),
            asyncio.create_task(processor.process_update(update(3, 200), work("b1"))),
            asyncio.create_task(processor.process_update(update(4, 100), work("a3"))),
        ]
        await asyncio.sleep(0.05)
        # The other chat was answered while the slow one waits; the slow chat's next
        # updates wait their turn.
        assert log == ["start a1", "start b1", "end b1"]
        release.set()
        await asyncio.gather(*tasks)
    assert log[3:] == ["end a1", "start a2", "end a2", "start a3", "end a3"]


async def test_a_failed_update_does_not_stop_its_chat() -> None:
    processor = PerChatOrder()
    done: list[int] = []

    async def fail() -> None:
        raise RuntimeError("boom")

    async def ok() -> None:
        done.append(2)

    async with processor:
        first = asyncio.create_task(processor.process_update(update(1, 300), fail()))
        second = asyncio.create_task(processor.process_update(update(2, 300), ok()))
        results = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert done == [2]
