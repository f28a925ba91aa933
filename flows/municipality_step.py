"""The municipality question: a name typed any way, or a department and then a list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from flows.engine import (
    MSG_DIDNT_UNDERSTAND,
    Choice,
    Msg,
    Next,
    Outcome,
    Pick,
    Reply,
    State,
    Step,
    StepEvent,
    Text,
    choices_with_nav,
)
from flows.messages import N_
from flows.municipalities import Catalog, Municipality
from flows.paging import MAX_CHOICES, page_count, page_of, pager, parse_page
from flows.steps import clean_text

PICK_PREFIX = "mun:"
DEPARTMENT_PREFIX = "dep:"
LIST = PICK_PREFIX + "list"
NONE = PICK_PREFIX + "none"
DEPARTMENTS = "departments"  # scratch["list"] while the departments are on screen

MSG_ASK_MUNICIPALITY = N_("¿En qué municipio pasó? Escriba el nombre.")
MSG_MUNICIPALITY_CONFIRM = N_("¿Es {municipality}?")
MSG_MUNICIPALITY_PICK = N_("Encontré varios municipios. ¿Cuál es?")
MSG_MUNICIPALITY_AMBIGUOUS = N_(
    "Hay municipios con ese nombre en varios departamentos. ¿En cuál departamento?"
)
MSG_MUNICIPALITY_NOT_FOUND = N_(
    "No encontré ese municipio. Escriba el nombre otra vez, o elija su departamento aquí abajo."
)
MSG_MUNICIPALITY_RETRY = N_("Escriba otra vez el nombre del municipio.")
MSG_PICK_DEPARTMENT = N_("Elija su departamento.")
MSG_PICK_FROM_LIST = N_("Municipios de {department} (página {page} de {pages}). Elija el suyo.")
MSG_NONE_OF_THESE = N_("Ninguno de estos")
LIST_CHOICE = Choice(LIST, Msg(N_("📋 Elegir de una lista")))
OTHER_DEPARTMENT_CHOICE = Choice(LIST, Msg(N_("📋 Otro departamento")))
# A list of municipalities shares the screen with "Otro departamento"; search candidates
# with "Ninguno de estos".
LIST_ROOM = MAX_CHOICES - 1
CANDIDATES = MAX_CHOICES - 1


@dataclass(frozen=True)
class MunicipalityStep(Step):
    """Asks for a municipality by name and confirms the match before moving on.

    One match is confirmed ("¿Es Santander de Quilichao (Cauca)?"), several are offered as
    buttons. A name not found, or the "Elegir de una lista" button, offers the covered
    departments and then that department's municipalities, in pages of at most eight
    choices (flows/paging.py). Only the final code is kept.
    """

    id: str
    prompt: Msg
    catalog: Catalog
    next: Next
    key: str = "municipality"

    def keeps_text(self, text: str) -> bool:
        """A municipality's name (Socorro, in Santander) is the answer, not a plea."""
        found = self.catalog.search(clean_text(text))
        return found.confident and not found.ambiguous

    def ask(self, state: State) -> tuple[Reply, ...]:
        return (Reply(self.prompt, choices_with_nav((LIST_CHOICE,)), step=self.id),)

    def take(self, state: State, event: StepEvent) -> Outcome:
        if isinstance(event, Pick):
            return self._take_pick(state, event)
        if not isinstance(event, Text):
            return Outcome(state, self.ask(state))
        result = self.catalog.search(clean_text(event.text), limit=CANDIDATES)
        if not result.matches:
            return self._departments(state, 0, MSG_MUNICIPALITY_NOT_FOUND)
        if len(result.matches) == 1:  # the only one found: confirm it, never "varios"
            found = result.matches[0]
            scratch = {"candidates": [found.code]}
            prompt = Msg(MSG_MUNICIPALITY_CONFIRM, {"municipality": found.label})
            choices = (
                Choice(PICK_PREFIX + found.code, Msg(N_("Sí"))),
                Choice(NONE, Msg(N_("No"))),
            )
            reply = Reply(prompt, choices_with_nav(choices), step=self.id)
            return Outcome(replace(state, scratch=scratch), (reply,))
        msgid = MSG_MUNICIPALITY_AMBIGUOUS if result.ambiguous else MSG_MUNICIPALITY_PICK
        return Outcome(
            replace(state, scratch={"candidates": [m.code for m in result.matches]}),
            (self._candidates(Msg(msgid), result.matches),),
        )

    def _take_pick(self, state: State, event: Pick) -> Outcome:
        code = event.code
        if code == LIST:
            return self._departments(state, 0, MSG_PICK_DEPARTMENT)
        if code == NONE:
            retry = Reply(Msg(MSG_MUNICIPALITY_RETRY), choices_with_nav((LIST_CHOICE,)), self.id)
            return Outcome(replace(state, scratch={}), (retry,))
        listing = state.scratch.get("list")
        if code.startswith(DEPARTMENT_PREFIX) and listing == DEPARTMENTS:
            department = code.removeprefix(DEPARTMENT_PREFIX)
            if len(department) == 2 and self.catalog.in_department(department):
                return self._municipalities(state, department, 0)
        if isinstance(listing, str):
            page = parse_page(code, self._list_pages(listing))
            if page is not None and listing == DEPARTMENTS:
                return self._departments(state, page, MSG_PICK_DEPARTMENT)
            if page is not None:
                return self._municipalities(state, listing, page)
        chosen = code.removeprefix(PICK_PREFIX)
        candidates: list[str] = list(state.scratch.get("candidates", ()))
        if code.startswith(PICK_PREFIX) and chosen in candidates and chosen in self.catalog:
            new = replace(state.answer(self.key, chosen), scratch={})
            return Outcome(new, (), goto=self.following(new))
        return Outcome(state, (Reply(Msg(MSG_DIDNT_UNDERSTAND)), *self.ask(state)))

    def _list_pages(self, listing: str) -> int:
        """Pages of the list on screen: the departments, or a department's municipalities."""
        if listing == DEPARTMENTS:
            return page_count(len(self.catalog.departments()))
        everyone = self.catalog.in_department(listing)
        return page_count(len(everyone), LIST_ROOM) if everyone else 0

    def _departments(self, state: State, page: int, msgid: str) -> Outcome:
        departments = self.catalog.departments()
        choices = [
            Choice(DEPARTMENT_PREFIX + d.code, d.name) for d in page_of(departments, page)
        ]
        choices += pager(page, page_count(len(departments)))
        scratch: Mapping[str, Any] = {"list": DEPARTMENTS, "page": page}
        reply = Reply(Msg(msgid), choices_with_nav(choices), step=self.id)
        return Outcome(replace(state, scratch=scratch), (reply,))

    def _municipalities(self, state: State, department: str, page: int) -> Outcome:
        everyone = self.catalog.in_department(department)
        pages = page_count(len(everyone), LIST_ROOM)
        shown = page_of(everyone, page, LIST_ROOM)
        choices = [Choice(PICK_PREFIX + m.code, m.display_name) for m in shown]
        choices += [OTHER_DEPARTMENT_CHOICE, *pager(page, pages)]
        prompt = Msg(
            MSG_PICK_FROM_LIST,
            {"department": everyone[0].department, "page": page + 1, "pages": pages},
        )
        scratch = {"list": department, "page": page, "candidates": [m.code for m in shown]}
        reply = Reply(prompt, choices_with_nav(choices), step=self.id)
        return Outcome(replace(state, scratch=scratch), (reply,))

    def _candidates(self, prompt: Msg, matches: tuple[Municipality, ...]) -> Reply:
        choices = [Choice(PICK_PREFIX + m.code, m.label) for m in matches]
        choices.append(Choice(NONE, Msg(MSG_NONE_OF_THESE)))
        return Reply(prompt, choices_with_nav(choices), step=self.id)
