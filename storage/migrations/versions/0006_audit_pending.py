"""a reporter's audit entries wait for the end of their hour before joining the chain

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.models import UTCDateTime

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'audit_pending',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('report_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('audit_pending') as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_pending_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_pending') as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_pending_at'))
    op.drop_table('audit_pending')
