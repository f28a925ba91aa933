"""A local Telegram Bot API double that speaks real HTTP, and the people who use it.

The server (:mod:`.server`, its methods in :mod:`.methods`, Telegram's rules in
:mod:`.telegram`) and the simulated person (:mod:`.person`)::

    with BotApiDouble() as double:
        ana = double.user(user_id=1001, first_name="Ana")
        ana.send_command("/start")
        ana.wait_for_bot_message("Hola")
        ana.press("Reportar")
"""

from tests.support.botapi.person import ChatMessage, FakeUser
from tests.support.botapi.server import BotApiDouble
from tests.support.botapi.telegram import Upload, render_text

__all__ = ["BotApiDouble", "ChatMessage", "FakeUser", "Upload", "render_text"]
