"""the queue's order as an index: reports (new_reply DESC, urgency_rank, created_hour, id)

The first page of a focal point's queue sorted every report row (sealed payloads
included) before this index: 317 ms at 100,000 reports on PostgreSQL (bench/triage.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_reports_queue_order', 'reports',
                    [sa.text('new_reply DESC'), 'urgency_rank', 'created_hour', 'id'])


def downgrade() -> None:
    op.drop_index('ix_reports_queue_order', table_name='reports')
