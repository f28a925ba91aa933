"""The whole conversation: the main menu, its entries, help and exit, put together."""

from __future__ import annotations

from dataclasses import replace

from flows.engine import Command, Flow, Msg, Reply, State, Step, enter
from flows.followup import FOLLOWUP, CaseStep, ReceiptCodeStep, ReplyStep
from flows.menu import MENU, MSG_HELP, MSG_WELCOME, MenuStep
from flows.municipalities import Catalog
from flows.pleas import Emergency, default_pleas
from flows.priorities import MUNICIPALITY as PRIORITY_START
from flows.priorities import priority_steps
from flows.protection import REQUEST_START, protection_steps, request_steps
from flows.quick import QUICK, QUICK_ANSWERS, quick_steps
from flows.reports import Promise
from flows.selfcare import SELFCARE, selfcare_steps
from flows.stigma import MUNICIPALITY as STIGMA_START
from flows.stigma import stigma_steps
from flows.threat import DANGER as THREAT_START
from flows.threat import threat_steps
from flows.wipe import WIPE_CONFIRM, AfterReportStep, WipeStep, wiped

# Where each menu entry starts.
TARGETS = {
    "threat": THREAT_START,
    "quick": QUICK,
    "protection": REQUEST_START,
    "stigma": STIGMA_START,
    "priority": PRIORITY_START,
    "followup": FOLLOWUP,
    "selfcare": SELFCARE,
    "wipe": WIPE_CONFIRM,
}


def _on_command(flow: Flow, promise: Promise) -> Flow:
    def handle(state: State, command: Command) -> tuple[State, tuple[Reply, ...]]:
        """/salir wipes the chat; /ayuda explains; anything else (/start) greets."""
        if command.name == "salir":
            return wiped(state)
        new, menu = enter(flow, State(locale=state.locale), MENU, remember=False)
        intro = Msg(MSG_HELP) if command.name == "ayuda" else Msg(MSG_WELCOME, promise.params())
        return new, (Reply(intro), *menu)

    return replace(flow, on_command=handle)


def build_flow(catalog: Catalog, promise: Promise | None = None) -> Flow:
    """Builds the conversation over a municipality catalog (coverage is the caller's);
    `promise` names who reads reports in the welcome and the help."""
    steps: list[Step] = [
        MenuStep(TARGETS, presets={"quick": QUICK_ANSWERS}),
        *threat_steps(catalog),
        *quick_steps(catalog),
        *stigma_steps(catalog),
        *priority_steps(catalog),
        ReceiptCodeStep(),
        CaseStep(),
        ReplyStep(),
        *protection_steps(),
        *request_steps(catalog),
        *selfcare_steps(catalog),
        WipeStep(),
        AfterReportStep(),
    ]
    by_id = {step.id: step for step in steps}
    if len(by_id) != len(steps):
        raise ValueError("two steps share an id")
    alarm = Emergency(catalog, default_pleas())
    return _on_command(Flow(name="somos", steps=by_id, start=MENU, alarm=alarm),
                       promise or Promise())
