"""Emergency and protection lines of a municipality: data the admin edits, not code."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import EmergencyLine


async def lines_for(*, session: AsyncSession, municipality_code: str) -> list[EmergencyLine]:
    query = select(EmergencyLine).where(col(EmergencyLine.municipality_code) == municipality_code)
    return sorted((await session.exec(query)).all(), key=lambda line: line.name)


async def add_line(
    *, session: AsyncSession, municipality_code: str, name: str, number: str
) -> EmergencyLine:
    line = EmergencyLine(municipality_code=municipality_code, name=name.strip(),
                         number=number.strip())
    session.add(line)
    await session.flush()
    return line


async def remove_line(*, session: AsyncSession, line_id: str) -> EmergencyLine | None:
    """Deletes one line; returns it (for its municipality), or None if it did not exist."""
    line = await session.get(EmergencyLine, line_id)
    if line is None:
        return None
    await session.delete(line)
    await session.flush()
    return line


async def municipalities_with_lines(*, session: AsyncSession) -> list[str]:
    """The codes of the municipalities that have at least one line of their own."""
    query = select(EmergencyLine.municipality_code).distinct()
    return sorted((await session.exec(query)).all())
