"""Routing rules as people type them: the one validation (CLI, API, admin pages) and the
one way the API and the admin pages add a rule (`submit_rule`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from api.labels import municipality_name
from flows import taxonomy
from storage.models import RoutingRule
from storage.routing import create_rule
from storage.users import get_user_by_username

CATEGORIES = frozenset({*taxonomy.THREAT_CATEGORIES, *taxonomy.STIGMA, *taxonomy.PRIORITIES})


@dataclass(frozen=True)
class RuleInput:
    department: str | None = None
    municipality: str | None = None
    kind: str | None = None
    category: str | None = None
    urgency: str | None = None


class RuleRefused(ValueError):
    """A rule that cannot be added; `problems` says every reason, in Spanish."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


def validate_rule(rule: RuleInput) -> list[str]:
    """Every problem with a rule, in Spanish; empty when the rule is fine."""
    problems = []
    if rule.municipality is not None and (
        len(rule.municipality) != 5 or municipality_name(rule.municipality) == rule.municipality
    ):
        problems.append(f"No existe el municipio DIVIPOLA {rule.municipality!r}.")
    if rule.department is not None and (len(rule.department) != 2 or not rule.department.isdigit()):
        problems.append(f"Código de departamento inválido: {rule.department!r} (2 dígitos).")
    if rule.kind is not None and rule.kind not in taxonomy.KINDS:
        problems.append(f"Tipo desconocido: {rule.kind!r}. Use: {', '.join(taxonomy.KINDS)}.")
    if rule.category is not None and rule.category not in CATEGORIES:
        problems.append(f"Categoría desconocida: {rule.category!r}.")
    if rule.urgency is not None and rule.urgency not in taxonomy.URGENCIES:
        problems.append(
            f"Urgencia desconocida: {rule.urgency!r}. Use: {', '.join(taxonomy.URGENCIES)}."
        )
    return problems


async def submit_rule(
    *, session: AsyncSession, actor: str, username: str, rule: RuleInput
) -> RoutingRule:
    """Adds a rule sending reports to `username`, audited as `actor`'s: every problem at
    once (the rule's and an unknown recipient), or storage's own refusal (a municipality
    outside the department, a recipient who cannot receive reports), as RuleRefused."""
    problems = validate_rule(rule)
    user = await get_user_by_username(session=session, username=username)
    if user is None:
        problems.append(f"No existe el usuario {username!r}.")
    if problems or user is None:
        raise RuleRefused(problems)
    try:
        return await create_rule(
            session=session, actor=actor, user_id=user.id, department_code=rule.department,
            municipality_code=rule.municipality, kind=rule.kind, category=rule.category,
            urgency=rule.urgency,
        )
    except ValueError as error:
        raise RuleRefused([str(error)]) from None
