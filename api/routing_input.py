"""Validation of routing rules, shared by the CLI and the API: errors a person can act on."""

from __future__ import annotations

from dataclasses import dataclass

from api.labels import municipality_name
from flows import taxonomy

CATEGORIES = frozenset({*taxonomy.THREATS, *taxonomy.STIGMA, *taxonomy.PRIORITIES})


@dataclass(frozen=True)
class RuleInput:
    department: str | None = None
    municipality: str | None = None
    kind: str | None = None
    category: str | None = None
    urgency: str | None = None


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
