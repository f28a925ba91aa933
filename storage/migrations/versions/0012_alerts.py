"""early warnings: alerts (a place's unusual rise, its figures, its acknowledgement)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    when = storage.models.UTCDateTime(timezone=True)
    op.create_table(
        'alerts',
        sa.Column('id', text(length=36), nullable=False),
        sa.Column('municipality_code', text(length=5), nullable=False),
        sa.Column('department_code', text(length=2), nullable=False),
        sa.Column('kind', text(length=32), nullable=False),
        sa.Column('category', text(length=64), nullable=True),
        sa.Column('window_start', when, nullable=False),
        sa.Column('window_end', when, nullable=False),
        sa.Column('observed', sa.Integer(), nullable=False),
        sa.Column('baseline', sa.Integer(), nullable=False),
        sa.Column('baseline_windows', sa.Integer(), nullable=False),
        sa.Column('p_value', sa.Float(), nullable=False),
        sa.Column('observed_perturbed', sa.Integer(), nullable=False),
        sa.Column('baseline_perturbed', sa.Integer(), nullable=False),
        sa.Column('created_at', when, nullable=False),
        sa.Column('acknowledged_at', when, nullable=True),
        sa.Column('acknowledged_by', text(length=36), nullable=True),
        sa.Column('crypto_note', sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(['acknowledged_by'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_alerts_department_code', 'alerts', ['department_code'])
    op.create_index('ix_alerts_created_at', 'alerts', ['created_at'])
    op.create_index('ix_alerts_place_window', 'alerts',
                    ['municipality_code', 'kind', 'window_start'])


def downgrade() -> None:
    op.drop_table('alerts')
