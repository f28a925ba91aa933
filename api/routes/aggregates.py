"""Aggregates and exports: analysts and admins see everything, focal points their own area.

Every number is a sum of perturbed counts over closed months (`storage.cellkey`), protected
by small-cell suppression before it leaves the server.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from api.aggregates import (
    AggregateError,
    Protected,
    export_response,
    last_closed_month,
    method,
    protected_priorities,
    scope_of,
    table_for,
)
from api.deps import SessionDep, SettingsDep, require_roles
from api.params import MONTH
from api.problems import Problem, problem_responses
from storage.models import utcnow
from storage.sessions import OpenSession

router = APIRouter(tags=["aggregates"])
# Every staff role: no 403 here.
Reader = Annotated[OpenSession, Depends(require_roles("analyst", "admin", "focal_point"))]
GROUP_BY_HELP = "Una o dos de: department, municipality, kind, category, month, quarter, year."
SUPPRESSED = ("Conteo perturbado (no exacto: ver `method`). null: suprimido (entre 1 y k−1 "
              "—en el perfil público también 0—, o porque revelaría uno de esos).")


class Coded(BaseModel):
    code: str
    label: str


class Cell(BaseModel):
    row: str
    column: str
    count: int | None = Field(description=SUPPRESSED)
    suppressed: bool


class Method(BaseModel):
    """How the published numbers were made: cell-key perturbation, then suppression."""

    name: str
    noise_cells: str
    cell_key: str
    max_noise_per_noise_cell: int
    noise_mean: int
    empty_cells_stay_zero: bool
    one_report_noise_percent: dict[str, int]
    several_reports_noise_percent: dict[str, int]
    published_through: str = Field(description="Último mes publicado: solo meses terminados.")
    suppression: str
    description: str


class TableQuery(BaseModel):
    group_by: list[str]
    month_from: str | None = Field(alias="from")
    month_to: str | None = Field(alias="to")
    kind: str | None


class AggregateTable(BaseModel):
    """A protected table: rows × columns (`total` when grouped by one dimension) and margins."""

    query: TableQuery
    profile: Literal["analyst", "public"]
    k: int
    method: Method
    margins_from_published_only: bool
    rows: list[Coded]
    columns: list[Coded]
    cells: list[Cell]
    row_totals: dict[str, int | None] = Field(description=SUPPRESSED)
    column_totals: dict[str, int | None] = Field(description=SUPPRESSED)
    total: int | None = Field(description=SUPPRESSED)


class Concern(BaseModel):
    code: str
    label: str
    points: int = Field(description="Puntos Borda, de respuestas perturbadas.")
    rank: int


class MunicipalityPriorities(BaseModel):
    municipality_code: str
    municipality: str
    respondents: int | None = Field(description="Perturbado. null: menos de k (perturbado).")
    suppressed: bool
    concerns: list[Concern]


class Priorities(BaseModel):
    k: int
    method: Method
    items: list[MunicipalityPriorities]


class DepartmentPriorities(BaseModel):
    department_code: str
    department: str
    respondents: int | None = Field(description="Perturbado. null: menos de k (perturbado).")
    suppressed: bool
    concerns: list[Concern]


class PrioritiesByDepartment(BaseModel):
    k: int
    method: Method
    items: list[DepartmentPriorities]


async def _table(session: AsyncSession, current: OpenSession, k: int, group_by: list[str],
                 month_from: str | None, month_to: str | None, kind: str | None,
                 profile: str) -> Protected:
    try:
        return await table_for(session=session, user=current.user, k=k, group_by=group_by,
                               month_from=month_from, month_to=month_to, kind=kind,
                               profile=profile)
    except AggregateError as error:
        raise Problem(422, str(error), code="bad-aggregate") from None


# These return plain data, which FastAPI checks against the response model.
@router.get("/api/v1/aggregates", response_model=AggregateTable,
            responses=problem_responses(401, 422))
async def aggregates(
    current: Reader,
    session: SessionDep,
    settings: SettingsDep,
    group_by: Annotated[list[str], Query(description=GROUP_BY_HELP)] = ["municipality"],  # noqa: B006
    month_from: Annotated[str | None, Query(alias="from", pattern=MONTH)] = None,
    month_to: Annotated[str | None, Query(alias="to", pattern=MONTH)] = None,
    kind: Literal["threat", "stigma", "priority"] | None = None,
    profile: Literal["analyst", "public"] = "analyst",
) -> dict[str, object]:
    """Perturbed counts by one or two dimensions, closed months only; cells 1..k−1 and what
    would reveal them are hidden."""
    protected = await _table(session, current, settings.suppression_k, group_by, month_from,
                             month_to, kind, profile)
    return protected.as_json()


@router.get("/api/v1/aggregates/priorities", response_model=Priorities,
            responses=problem_responses(401, 422))
async def priorities(
    current: Reader,
    session: SessionDep,
    settings: SettingsDep,
    month_from: Annotated[str | None, Query(alias="from", pattern=MONTH)] = None,
    month_to: Annotated[str | None, Query(alias="to", pattern=MONTH)] = None,
) -> dict[str, object]:
    """Per municipality: concerns ranked by Borda count, and respondents (perturbed, closed
    months only); hidden below k."""
    return await _rankings(session, current, settings.suppression_k, month_from, month_to,
                           "municipality")


async def _rankings(session: AsyncSession, current: OpenSession, k: int,
                    month_from: str | None, month_to: str | None, by: str) -> dict[str, object]:
    now = utcnow()
    items = await protected_priorities(
        session=session, scope=await scope_of(session, current.user), k=k,
        month_from=month_from, month_to=month_to, now=now, by=by,
    )
    return {"k": k, "items": items, "method": method(through=last_closed_month(now))}


@router.get("/api/v1/aggregates/priorities/departments", response_model=PrioritiesByDepartment,
            responses=problem_responses(401, 422))
async def priorities_by_department(
    current: Reader,
    session: SessionDep,
    settings: SettingsDep,
    month_from: Annotated[str | None, Query(alias="from", pattern=MONTH)] = None,
    month_to: Annotated[str | None, Query(alias="to", pattern=MONTH)] = None,
) -> dict[str, object]:
    """The same rankings per department (its municipalities in the caller's area added up:
    where each municipality has fewer than k respondents, the department may have k); hidden
    below k."""
    return await _rankings(session, current, settings.suppression_k, month_from, month_to,
                           "department")


@router.get(
    "/api/v1/exports/aggregates", response_class=Response,
    responses={200: {"description": "El archivo: CSV (también con etiquetas HXL) o JSON.",
                     "content": {"text/csv": {"schema": {"type": "string"}},
                                 "application/json": {
                                     "schema": {"$ref": "#/components/schemas/AggregateTable"}}}},
               **problem_responses(401, 422)},
)
async def export(
    current: Reader,
    session: SessionDep,
    settings: SettingsDep,
    format: Literal["csv", "json", "hxl"] = "csv",
    group_by: Annotated[list[str], Query()] = ["municipality", "category"],  # noqa: B006
    month_from: Annotated[str | None, Query(alias="from", pattern=MONTH)] = None,
    month_to: Annotated[str | None, Query(alias="to", pattern=MONTH)] = None,
    kind: Literal["threat", "stigma", "priority"] | None = None,
    profile: Literal["analyst", "public"] = "analyst",
    lang: Literal["en", "es"] = "en",
) -> Response:
    """A file that is safe to share: CSV, JSON (query, k and method echoed) or HXL-tagged
    CSV. Counts are perturbed (see `method` in the JSON)."""
    protected = await _table(session, current, settings.suppression_k, group_by, month_from,
                             month_to, kind, profile)
    return export_response(protected, format=format, lang=lang)
