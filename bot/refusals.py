"""Why an evidence file was refused, and what to tell the person who sent it.

This module imports nothing heavy: the sandbox's worker process imports it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from flows.messages import N_

MSG_TOO_LARGE = N_("Ese archivo es muy grande. El límite es de {megabytes} MB.")
MSG_UNSUPPORTED = N_(
    "No puedo recibir ese tipo de archivo. Envíe fotos, documentos PDF o notas de voz."
)
MSG_TOO_BIG_PICTURE = N_(
    "Esa imagen es demasiado grande para revisarla. "
    "Envíe una foto normal o una captura de pantalla."
)
MSG_TOO_MANY_PAGES = N_(
    "Ese PDF tiene más de {pages} páginas. Envíe solo las páginas importantes."
)
MSG_FAILED = N_(
    "No pude revisar ese archivo. Intente con otro formato (foto, PDF o nota de voz)."
)

# Reason → msgid. Placeholders: {megabytes} (the size limit), {pages} (the page limit).
REFUSALS: Mapping[str, str] = MappingProxyType({
    "too_large": MSG_TOO_LARGE,
    "unsupported": MSG_UNSUPPORTED,
    "too_big_picture": MSG_TOO_BIG_PICTURE,
    "too_many_pages": MSG_TOO_MANY_PAGES,
    "failed": MSG_FAILED,
})


class EvidenceError(ValueError):
    """A file that cannot be accepted; `reason` is a key of `REFUSALS`:

    "too_large" (over the size limit), "unsupported" (a type or a file that cannot be
    checked), "too_big_picture" (over the pixel budget), "too_many_pages" (a PDF over
    the page limit), "failed" (the check itself died, ran out of memory or of time).
    """

    def __init__(self, reason: str) -> None:
        if reason not in REFUSALS:
            raise ValueError(f"unknown refusal reason: {reason}")
        super().__init__(reason)
        self.reason = reason
