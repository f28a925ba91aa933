"""A plea for help typed anywhere: heard in Spanish or English, answered with emergency lines.

The phrases are data (`flows/data/pleas.csv`): `anywhere` phrases count wherever they
appear in a message, `alone` ones only as the whole message ("sos", which is also the verb
of Antioquia's "vos sos"), and `ordinary` words are never taken for a typo of a plea word
("ayudar" is not "ayuda"). Accents, case, repeated letters and common spelling slips (b/v,
s/z/c, y/ll, a silent h) do not matter; a word of five letters or more may also be off by
one letter.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from flows.engine import Msg, Reply, State, Step
from flows.lines import local_items, local_lines
from flows.messages import N_
from flows.municipalities import Catalog
from flows.selfcare import MSG_LOCAL_LINES
from flows.steps import clean_text

PLEAS_CSV = Path(__file__).with_name("data") / "pleas.csv"
MATCHES = ("anywhere", "alone", "ordinary")
TYPO_FROM = 5  # letters a word needs before one wrong letter is forgiven

MSG_EMERGENCY = N_(
    "Si hay peligro ahora mismo, llame ya:\n"
    "• 123 Policía\n"
    "• 103 Línea Vida de la UNP (Unidad Nacional de Protección)"
)
MSG_NOT_A_HOTLINE = N_(
    "Este chat no es una línea de emergencia y no puede enviar ayuda. Cuando pueda, siga aquí."
)
MSG_MARKED_URGENT = N_(
    "Este chat no es una línea de emergencia. Su reporte llegará marcado como urgente. Sigamos."
)


def danger_replies() -> tuple[Reply, ...]:
    """What "Sí, hay peligro ahora" gets at once, before the report goes on."""
    return (Reply(Msg(MSG_EMERGENCY)), Reply(Msg(MSG_MARKED_URGENT)))


# --- Hearing a plea ----------------------------------------------------------------------

_SOUNDS = (("ll", "y"), ("v", "b"), ("z", "s"), ("ce", "se"), ("ci", "si"))
_SILENT_H = re.compile(r"(?<!c)h")
_REPEATS = re.compile(r"(.)\1{2,}")
_NOT_A_LETTER = re.compile(r"[^a-z0-9]+")


def fold(word: str) -> str:
    """One spelling per sound: "Ayúdeme" and "aiudeme" stay apart, "matar" and "mattar" too,
    but "me ban a matar" is "me van a matar"."""
    for written, said in _SOUNDS:
        word = word.replace(written, said)
    return _SILENT_H.sub("", word)


def words_of(text: str) -> list[str]:
    """Lower case, no accents, no punctuation, runs of a letter cut to one, folded."""
    bare = "".join(
        ch for ch in unicodedata.normalize("NFKD", clean_text(text).casefold())
        if not unicodedata.combining(ch)
    )
    bare = bare.replace("'", "").replace("’", "")
    bare = _REPEATS.sub(r"\1", bare)
    return [fold(word) for word in _NOT_A_LETTER.split(bare) if word]


def _one_apart(a: str, b: str) -> bool:
    """At most one letter added, dropped, changed, or two neighbours swapped."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1:]
    return a[i + 1:] == b[i + 1:] or (
        i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]
    )


@dataclass(frozen=True)
class Pleas:
    phrases: tuple[tuple[str, ...], ...]
    alone: frozenset[str]
    ordinary: frozenset[str]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, str]]) -> Pleas:
        phrases: list[tuple[str, ...]] = []
        alone: set[str] = set()
        ordinary: set[str] = set()
        for row in rows:
            words, match = tuple(words_of(row["phrase"])), row["match"].strip()
            if not words or match not in MATCHES:
                raise ValueError(f"bad plea row: {dict(row)!r}")
            if match == "anywhere":
                phrases.append(words)
            elif match == "alone":
                alone.add("".join(words))
            else:
                ordinary.add("".join(words))
        return cls(tuple(phrases), frozenset(alone), frozenset(ordinary))

    @classmethod
    def load(cls, path: Path = PLEAS_CSV) -> Pleas:
        with path.open(encoding="utf-8", newline="") as handle:
            return cls.from_rows(csv.DictReader(handle))

    @cached_property
    def _by_first_word(self) -> Mapping[str, tuple[tuple[str, ...], ...]]:
        firsts: dict[str, list[tuple[str, ...]]] = {}
        for phrase in self.phrases:
            firsts.setdefault(phrase[0], []).append(phrase)
        return {word: tuple(phrases) for word, phrases in firsts.items()}

    @cached_property
    def _by_length(self) -> Mapping[int, frozenset[str]]:
        lengths: dict[int, set[str]] = {}
        for word in {word for phrase in self.phrases for word in phrase}:
            lengths.setdefault(len(word), set()).add(word)
        return {length: frozenset(words) for length, words in lengths.items()}

    def _close(self, typed: str) -> frozenset[str]:
        """The plea words `typed` may stand for: itself, or one letter off when long."""
        same = self._by_length.get(len(typed), frozenset())
        exact = {typed} & same
        if typed in self.ordinary:
            return frozenset(exact)
        near = (
            plea
            for length in (len(typed) - 1, len(typed), len(typed) + 1)
            for plea in self._by_length.get(length, ())
            # One slip leaves the first or the last letter in place: a cheap test first.
            if len(plea) >= TYPO_FROM and (typed[0] == plea[0] or typed[-1] == plea[-1])
            and _one_apart(typed, plea)
        )
        return frozenset({*exact, *near})

    def heard(self, text: str) -> bool:
        """Whether the message reads as a plea for help."""
        words = words_of(text)
        if not words:
            return False
        if "".join(words) in self.alone:
            return True
        close = {typed: self._close(typed) for typed in set(words)}
        stands_for = [close[word] for word in words]
        return any(
            all(phrase[j] in stands_for[i + j] for j in range(1, len(phrase)))
            for i, found in enumerate(stands_for)
            for first in found
            for phrase in self._by_first_word.get(first, ())
            if i + len(phrase) <= len(words)
        )


@cache
def default_pleas() -> Pleas:
    return Pleas.load()


# --- Answering it: the engine's Alarm ----------------------------------------------------


@dataclass(frozen=True)
class Emergency:
    """Hears pleas and says the emergency lines; the engine resumes the conversation."""

    catalog: Catalog
    pleas: Pleas

    def heard(self, text: str) -> bool:
        return self.pleas.heard(text)

    def keeps(self, step: Step, state: State, text: str) -> bool:
        """Free text that is the answer stays the answer: a description, a message to the
        team, and a municipality's name (Socorro, in Santander): `Step.keeps_text`."""
        return step.keeps_text(text)

    def lines(self) -> tuple[Reply, ...]:
        return (Reply(Msg(MSG_EMERGENCY)), Reply(Msg(MSG_NOT_A_HOTLINE)))

    def local(self, state: State, data: Mapping[str, Any]) -> tuple[Reply, ...]:
        found = self.catalog.get(str(state.answers.get("municipality", "")))
        lines: Sequence[Any] = local_lines(data)
        if found is None or not lines:
            return ()
        return (Reply(Msg(MSG_LOCAL_LINES, {"municipality": found.label,
                                            "lines": local_items(lines)})),)
