"""Shapes of the values the API looks up in the database, as the OpenAPI document states them.

PostgreSQL text cannot hold U+0000, and no database driver can encode a lone surrogate (JSON
allows "\\ud800"): such a value used to fail inside the query, a 500. Now it is refused
first, as any other malformed value, with a 422 that says which field.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path

# Any text without U+0000. A pattern also makes pydantic check that the text is valid
# Unicode, which refuses lone surrogates.
STORABLE = r"^[^\x00]*$"
# Only ASCII digits, spelled `[0-9]`: `\d` is every Unicode digit to Python and to
# pydantic's Rust engine, but ASCII only to JSON Schema (ECMA-262), which the document speaks.
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
DEPARTMENT_CODE = r"^[0-9]{2}$"
MUNICIPALITY_CODE = r"^[0-9]{5}$"
# Every id is a lowercase UUID 4 (storage.models.new_id).
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def is_id(value: str) -> bool:
    return re.fullmatch(UUID, value) is not None


ReportId = Annotated[str, Path(pattern=UUID, description="Identificador del reporte (UUID).")]
AttachmentId = Annotated[str, Path(pattern=UUID, description="Identificador del archivo (UUID).")]
RuleId = Annotated[str, Path(pattern=UUID, description="Identificador de la regla (UUID).")]
UserId = Annotated[str, Path(pattern=UUID, description="Identificador de la cuenta (UUID).")]
