"""Who receives a report: routing rules, then the focal points of the area, then admins.

A report is never routed to nobody: an installation always has its first admin.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import RoutingRule, User, UserArea


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
    """The focal points a new report is encrypted for."""
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
    if rules:
        best = max(rule_specificity(rule) for rule in rules)
        chosen = [rule.user_id for rule in rules if rule_specificity(rule) == best]
        users = await _active_users(session, chosen)
        if users:
            return users

    area_users = (
        await session.exec(
            select(UserArea.user_id).where(
                or_(
                    col(UserArea.municipality_code) == municipality_code,
                    col(UserArea.department_code) == department_code,
                )
            )
        )
    ).all()
    focal_points = [u for u in await _active_users(session, area_users) if u.role == "focal_point"]
    if focal_points:
        return focal_points

    admins = await session.exec(
        select(User).where(col(User.role) == "admin", col(User.disabled).is_(False))
    )
    return sorted(admins.all(), key=lambda user: user.username)
