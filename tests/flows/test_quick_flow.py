"""The quick report: danger, place, what happened, send — a routed threat report."""

from __future__ import annotations

import pytest

from flows import taxonomy
from flows.engine import Command, FileSent, Msg, Text
from flows.menu import MENU
from flows.municipality_step import MSG_ASK_MUNICIPALITY, MSG_MUNICIPALITY_CONFIRM
from flows.pleas import MSG_EMERGENCY, MSG_MARKED_URGENT
from flows.reports import confirmed_report
from flows.summary import MSG_LINE_MUNICIPALITY, MSG_SUMMARY, MSG_VOICE_NOTE
from flows.threat import MSG_ASK_DANGER, MSG_ASK_DESCRIPTION, MSG_LINE_DANGER, MSG_LINE_DESCRIPTION
from tests.support.places import TUMACO
from tests.support.walk import Item, assert_well_formed, msgids, trace

SAID = "Hombres armados llegaron a la casa de mi vecina."
VOICE = FileSent("voice", "ref-voice", 30_000, "audio/ogg")


def walk(danger: str, said: Item) -> list[Item]:
    """Every action after choosing the entry: a tap, a message or a voice note each."""
    return [danger, Text("Tumaco"), f"mun:{TUMACO}", said, "confirm"]


@pytest.mark.parametrize(("danger", "urgency"), [("no", "normal"), ("yes", "immediate")])
def test_a_quick_report_is_sent_in_five_actions(danger: str, urgency: str) -> None:
    actions = walk(danger, Text(SAID))
    assert len(actions) <= 5
    seen = trace([Command("start"), "quick", *actions])
    assert seen[1][0].history == (MENU,) and msgids(seen[1][1]) == [MSG_ASK_DANGER]
    after_danger = [MSG_EMERGENCY, MSG_MARKED_URGENT] if danger == "yes" else []
    assert msgids(seen[2][1]) == [*after_danger, MSG_ASK_MUNICIPALITY]
    assert msgids(seen[3][1]) == [MSG_MUNICIPALITY_CONFIRM]
    assert msgids(seen[4][1]) == [MSG_ASK_DESCRIPTION]
    summary = seen[5][1][-1]
    assert summary.text.msgid == MSG_SUMMARY
    assert summary.text.params["details"] == (
        Msg(MSG_LINE_DANGER, {"value": Msg(taxonomy.YES_NO[danger])}),
        Msg(MSG_LINE_MUNICIPALITY, {"value": "San Andrés de Tumaco (Nariño)"}),
        Msg(MSG_LINE_DESCRIPTION, {"value": SAID}),
    )
    for _, replies in seen:
        assert_well_formed(replies)

    state, replies = seen[-1]
    assert state.status == "submitted" and replies == []
    report = confirmed_report(state)
    assert (report.kind, report.category) == ("threat", "threat.unspecified")
    assert report.category in taxonomy.THREAT_CATEGORIES
    assert report.category not in taxonomy.THREATS  # never offered as a button
    assert report.municipality_code == TUMACO and report.urgency == urgency
    assert report.answers["description"] == SAID and report.answers["notify"] == "no"


def test_a_voice_note_tells_what_happened() -> None:
    seen = trace([Command("start"), "quick", *walk("no", VOICE)])
    details = seen[-2][1][-1].text.params["details"]
    assert isinstance(details, tuple)
    assert Msg(MSG_LINE_DESCRIPTION, {"value": Msg(MSG_VOICE_NOTE)}) in details
    report = confirmed_report(seen[-1][0])
    assert report.answers["description_voice"]["ref"] == "ref-voice"


def test_the_quick_reports_category_has_a_label_for_exports() -> None:
    assert taxonomy.label("threat.unspecified") == "Sin clasificar (reporte rápido)"
