"""What the Bot API double remembers: chats and their messages, files, queued updates."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.support.botapi.telegram import JSON


@dataclass
class StoredMessage:
    data: JSON
    from_bot: bool
    version: int
    deleted: bool = False


@dataclass
class ChatState:
    data: JSON
    next_message_id: int = 1
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    reply_keyboard: JSON | None = None
    bot_left: bool = False
    blocked: bool = False


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


@dataclass
class QueuedUpdate:
    update: JSON
    delivered: bool = False
