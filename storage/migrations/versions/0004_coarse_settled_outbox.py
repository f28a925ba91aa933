"""settled notifications keep only hours: exact times would date their reports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# storage.outbox.MAX_ATTEMPTS when this revision was written: rows with this many
# attempts were given up.
GIVEN_UP = 8

outbox = sa.table(
    'outbox',
    sa.column('id', sa.String()),
    sa.column('created_at', UTCDateTime()),
    sa.column('next_attempt_at', UTCDateTime()),
    sa.column('sent_at', UTCDateTime()),
    sa.column('attempts', sa.Integer()),
)


def _hour(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(minute=0, second=0, microsecond=0)


def upgrade() -> None:
    bind = op.get_bind()
    settled = bind.execute(
        sa.select(outbox.c.id, outbox.c.created_at, outbox.c.next_attempt_at, outbox.c.sent_at)
        .where(sa.or_(outbox.c.sent_at.is_not(None), outbox.c.attempts >= GIVEN_UP))
    ).all()
    for row in settled:
        bind.execute(
            outbox.update().where(outbox.c.id == row.id).values(
                created_at=_hour(row.created_at), next_attempt_at=_hour(row.next_attempt_at),
                sent_at=_hour(row.sent_at),
            )
        )


def downgrade() -> None:
    pass  # the exact times are gone on purpose
