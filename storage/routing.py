"""Who receives a report: routing rules, then the focal points of the area, then admins.

A report is never routed to nobody: an installation always has its first admin. Rules
are added and removed here; a staff member's change (`create_rule`, `delete_rule`) is
audited. Checking a rule against the place and code catalogs is `api.routing_input`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit import append_audit
from storage.models import RoutingRule, User, UserArea, utcnow


def rule_specificity(rule: RoutingRule) -> tuple[int, int, int]:
    """More specific rules win: place first, then category over kind, then urgency."""
    place = 2 if rule.municipality_code else 1 if rule.department_code else 0
    subject = 2 if rule.category else 1 if rule.kind else 0
    return (place, subject, 1 if rule.urgency else 0)


def _rule_applies(
    rule: RoutingRule, municipality_code: str, kind: str, category: str, urgency: str
) -> bool:
    if rule.municipality_code is not None:
        place = rule.municipality_code == municipality_code
    else:
        place = rule.department_code in (None, municipality_code[:2])
    return (
        place
        and rule.kind in (None, kind)
        and rule.category in (None, category)
        and rule.urgency in (None, urgency)
    )


@dataclass(frozen=True)
class RoutingTable:
    """Routing rules, focal-point areas and active staff, read once to route many reports."""

    rules: Sequence[RoutingRule]
    areas: Sequence[UserArea]
    active_users: Mapping[str, User]

    def recipients(
        self, *, municipality_code: str, kind: str, category: str, urgency: str
    ) -> list[User]:
        """The focal points a new report is encrypted for.

        A focal point's own area counts as an implicit rule for any kind of report
        (municipality beats department). Explicit rules compete on the same scale,
        so a more specific rule wins over an area and a catch-all rule is the
        organization's fallback. With nothing at all, the admins receive it.
        """
        department_code = municipality_code[:2]
        candidates: list[tuple[tuple[int, int, int], str]] = [
            (rule_specificity(rule), rule.user_id) for rule in self.rules
            if _rule_applies(rule, municipality_code, kind, category, urgency)
        ]
        candidates += [
            ((2 if area.municipality_code else 1, 0, 0), area.user_id) for area in self.areas
            if area.municipality_code == municipality_code
            or area.department_code == department_code
        ]
        while candidates:
            best = max(score for score, _ in candidates)
            chosen = {user_id for score, user_id in candidates if score == best}
            users = [self.active_users[user_id] for user_id in chosen
                     if user_id in self.active_users
                     and self.active_users[user_id].role in ("focal_point", "admin")]
            if users:
                return sorted(users, key=lambda user: user.username)
            # Everyone at this level is disabled: fall back to the next level.
            candidates = [(score, user_id) for score, user_id in candidates if score != best]
        admins = [user for user in self.active_users.values() if user.role == "admin"]
        return sorted(admins, key=lambda user: user.username)

    def covers(
        self, user_id: str, *, municipality_code: str, kind: str, category: str, urgency: str
    ) -> bool:
        """Whether `user_id` works the place and subject of such a report: an area of theirs
        holds the place, or a rule naming them applies (winning or not)."""
        return any(
            area.user_id == user_id and (area.municipality_code == municipality_code
                                         or area.department_code == municipality_code[:2])
            for area in self.areas
        ) or any(
            rule.user_id == user_id
            and _rule_applies(rule, municipality_code, kind, category, urgency)
            for rule in self.rules
        )


async def load_routing(*, session: AsyncSession) -> RoutingTable:
    """Every routing rule and area, and the staff who are not disabled (small tables)."""
    rules = (await session.exec(select(RoutingRule))).all()
    areas = (await session.exec(select(UserArea))).all()
    users = (await session.exec(select(User).where(col(User.disabled).is_(False)))).all()
    return RoutingTable(rules=rules, areas=areas, active_users={user.id: user for user in users})


async def recipients_for(
    *, session: AsyncSession, municipality_code: str, kind: str, category: str, urgency: str
) -> list[User]:
    """The focal points a new report is encrypted for (see `RoutingTable.recipients`)."""
    routing = await load_routing(session=session)
    return routing.recipients(municipality_code=municipality_code, kind=kind,
                              category=category, urgency=urgency)


async def create_rule(
    *,
    session: AsyncSession,
    actor: str,
    user_id: str,
    department_code: str | None = None,
    municipality_code: str | None = None,
    kind: str | None = None,
    category: str | None = None,
    urgency: str | None = None,
) -> RoutingRule:
    """Adds a rule by `actor` (a staff id, or "operator" at the CLI) and audits it;
    ValueError when the place or the recipient cannot be."""
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
    await append_audit(session=session, actor=actor, action="routing.rule_added",
                       detail={"rule": rule.id})
    return rule


async def delete_rule(*, session: AsyncSession, actor: str, rule_id: str) -> bool:
    """`remove_rule` by a staff member (`actor`), written to the audit log; False if there
    was no such rule (nothing is written then)."""
    if not await remove_rule(session=session, rule_id=rule_id):
        return False
    await append_audit(session=session, actor=actor, action="routing.rule_removed",
                       detail={"rule": rule_id})
    return True


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
