"""Telegram's formats and rules as the Bot API double applies them.

Error descriptions, limits, the HTML and MarkdownV2 parse modes, inline keyboard
validation, and how python-telegram-bot encodes a request's parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl

JSON = dict[str, Any]

DELETE_WINDOW_SECONDS = 48 * 3600
MAX_TEXT_LENGTH = 4096
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a content and reply markup of the current content and reply markup of the message"
)
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_JSON_PARAMS = frozenset(
    {"reply_markup", "allowed_updates", "commands", "scope", "entities", "caption_entities",
     "link_preview_options", "reply_parameters", "message_ids", "media"}
)
_NUMBER_PARAMS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time", "max_connections",
     "from_chat_id", "message_thread_id", "reply_to_message_id"}
)
_BOOL_PARAMS = frozenset(
    {"show_alert", "drop_pending_updates", "disable_notification", "protect_content",
     "disable_web_page_preview", "allow_sending_without_reply"}
)
CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
     "upload_document", "choose_sticker", "find_location", "record_video_note",
     "upload_video_note"}
)
_HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
     "tg-emoji", "code", "pre", "blockquote"}
)
_BUTTON_ACTIONS = frozenset(
    {"url", "callback_data", "web_app", "login_url", "switch_inline_query",
     "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
     "callback_game", "pay"}
)
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request (recorded in ``double.requests``)."""

    filename: str
    content_type: str
    data: bytes



class _TelegramHTML(HTMLParser):
    """Telegram's HTML subset: validates tags and returns the plain text."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.parts: list[str] = []
        self.stack: list[str] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        lines = self.source.splitlines(keepends=True)
        index = sum(len(chunk) for chunk in lines[: line - 1]) + column
        return len(self.source[:index].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS or (tag == "span" and ("class", "tg-spoiler") not in attrs):
            raise bad(f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset '
                       f"{self._offset()}")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise bad(f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset '
                   f"{self._offset()}")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise bad(f"can't parse entities: Unexpected end tag at byte offset {self._offset()}")
        expected = self.stack.pop()
        if expected != tag:
            raise bad(f"can't parse entities: Unmatched end tag at byte offset {self._offset()}, "
                       f'expected "</{expected}>", found "</{tag}>"')

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def render_text(text: str, parse_mode: str | None) -> str:
    """The text Telegram would show for ``text`` sent with ``parse_mode`` (or raise 400)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        parser = _TelegramHTML(text)
        parser.feed(text)
        parser.close()
        if parser.stack:
            raise bad("can't parse entities: Can't find end tag corresponding to start tag "
                       f'"{parser.stack[-1]}"')
        return "".join(parser.parts).strip()
    if mode == "markdownv2":
        escaped = in_code = in_url = False
        previous = ""
        for char in text:
            if escaped:  # an escaped character is plain text
                escaped, previous = False, ""
                continue
            if char == "\\":
                escaped = True
            elif in_url:  # inside the (url) of [text](url) only ")" matters
                in_url = char != ")"
            elif char == "(" and previous == "]" and not in_code:
                in_url = True
            elif char == "`":
                in_code = not in_code
            elif not in_code and char in "#+-={}.!":
                raise bad(f"can't parse entities: Character '{char}' is reserved and must be "
                           "escaped with the preceding '\\'")
            previous = char
        return text.strip()
    if mode not in ("", "markdown"):
        raise bad("unsupported parse_mode")
    return text.strip()


def decode_params(raw: Mapping[str, Any]) -> JSON:
    """Undo python-telegram-bot's form encoding (JSON-encoded non-string values)."""
    params: JSON = {}
    for key, value in raw.items():
        if isinstance(value, str):
            if key in _JSON_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError:
                    pass  # kept raw; the method handler reports it like Telegram
            elif key in _NUMBER_PARAMS and re.fullmatch(r"-?\d+", value):
                value = int(value)
            elif key in _NUMBER_PARAMS and re.fullmatch(r"-?\d+\.\d*", value):
                value = float(value)
            elif key in _BOOL_PARAMS:
                value = value.lower() == "true"
        params[key] = value
    return params


def parse_body(content_type: str, body: bytes) -> JSON:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    if content_type.startswith("multipart/form-data"):
        head = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        parts: JSON = {}
        for part in message.walk():
            if part.is_multipart():
                continue
            assert isinstance(part, Message)
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(payload, bytes):
                continue
            filename = part.get_filename()
            parts[name] = (
                Upload(filename, part.get_content_type(), payload)
                if filename else payload.decode()
            )
        return parts
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def check_markup(markup: Any, *, inline_only: bool = False) -> JSON | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if inline_only:
            raise bad("inline keyboard expected")
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad("can't parse inline keyboard button: field \"inline_keyboard\" must be an "
                   "Array of Arrays")
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad("can't parse inline keyboard button: Field \"text\" must be of type String")
        if not _BUTTON_ACTIONS & button.keys():
            raise bad("can't parse inline keyboard button: Text buttons are unallowed in the "
                       "inline keyboard")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= 64:
            raise bad("BUTTON_DATA_INVALID")
    return markup



def json_response(status: int, body: JSON) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(body).encode()


def error_response(code: int, description: str) -> tuple[int, str, bytes]:
    return json_response(code, {"ok": False, "error_code": code, "description": description})

