"""Who receives a report: routing rules, then the focal points of the area, then admins.

A report is never routed to nobody: an installation always has its first admin.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import RoutingRule, User, UserArea, utcnow


def rule_specificity(rule: RoutingRule) -> tuple[int, int, int]:
    """More specific rules win: place first, then category over kind, then urgency."""
    place = 2 if rule.municipality_code else 1 if rule.department_code else 0
    subject = 2 if rule.category else 1 if rule.kind else 0
    return (place, subject, 1 if rule.urgency else 0)


async def _active_users(session: AsyncSession, user_ids: Sequence[str]) -> list[User]:
    if not user_ids:
        return []
    users = await session.exec(
        select(User).where(col(User.id).in_(user_ids), col(User.disabled).is_(False))
    )
    return sorted(users.all(), key=lambda user: user.username)


async def recipients_for(
    *, session: AsyncSession, municipality_code: str, kind: str, category: str, urgency: str
) -> list[User]:
    """The focal points a new report is encrypted for.

    A focal point's own area counts as an implicit rule for any kind of report
    (municipality beats department). Explicit rules compete on the same scale,
    so a more specific rule wins over an area and a catch-all rule is the
    organization's fallback. With nothing at all, the admins receive it.
    """
    department_code = municipality_code[:2]
    rules = (
        await session.exec(
            select(RoutingRule).where(
                or_(
                    col(RoutingRule.municipality_code) == municipality_code,
                    (col(RoutingRule.municipality_code).is_(None))
                    & (
                        (col(RoutingRule.department_code) == department_code)
                        | col(RoutingRule.department_code).is_(None)
                    ),
                ),
                or_(col(RoutingRule.kind).is_(None), col(RoutingRule.kind) == kind),
                or_(col(RoutingRule.category).is_(None), col(RoutingRule.category) == category),
                or_(col(RoutingRule.urgency).is_(None), col(RoutingRule.urgency) == urgency),
            )
        )
    ).all()
    areas = (
        await session.exec(
            select(UserArea).where(
                or_(
                    col(UserArea.municipality_code) == municipality_code,
                    col(UserArea.department_code) == department_code,
                )
            )
        )
    ).all()
    candidates: list[tuple[tuple[int, int, int], str]] = [
        (rule_specificity(rule), rule.user_id) for rule in rules
    ]
    candidates += [((2 if area.municipality_code else 1, 0, 0), area.user_id) for area in areas]

    while candidates:
        best = max(score for score, _ in candidates)
        chosen = [user_id for score, user_id in candidates if score == best]
        users = [u for u in await _active_users(session, chosen)
                 if u.role in ("focal_point", "admin")]
        if users:
            return users
        # Everyone at this level is disabled: fall back to the next level.
        candidates = [(score, user_id) for score, user_id in candidates if score != best]

    admins = await session.exec(
        select(User).where(col(User.role) == "admin", col(User.disabled).is_(False))
    )
    return sorted(admins.all(), key=lambda user: user.username)


async def add_rule(
    *,
    session: AsyncSession,
    user_id: str,
    department_code: str | None = None,
    municipality_code: str | None = None,
    kind: str | None = None,
    category: str | None = None,
    urgency: str | None = None,
) -> RoutingRule:
    if municipality_code and department_code and municipality_code[:2] != department_code:
        raise ValueError("El municipio no pertenece a ese departamento.")
    user = await session.get(User, user_id)
    if user is None or user.role not in ("focal_point", "admin"):
        raise ValueError("Una regla solo puede enviar reportes a un punto focal o administrador.")
    rule = RoutingRule(
        user_id=user_id,
        department_code=department_code or (municipality_code[:2] if municipality_code else None),
        municipality_code=municipality_code, kind=kind, category=category, urgency=urgency,
        created_at=utcnow(),
    )
    session.add(rule)
    await session.flush()
    return rule


async def list_rules(*, session: AsyncSession) -> list[RoutingRule]:
    rules = (await session.exec(select(RoutingRule))).all()
    return sorted(rules, key=lambda rule: (rule_specificity(rule), rule.id), reverse=True)


async def remove_rule(*, session: AsyncSession, rule_id: str) -> bool:
    rule = await session.get(RoutingRule, rule_id)
    if rule is None:
        return False
    await session.delete(rule)
    await session.flush()
    return True
