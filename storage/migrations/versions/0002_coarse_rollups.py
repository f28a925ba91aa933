"""coarser rollup tables, filled from the existing rollups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rollups_category_year',
    sa.Column('municipality_code', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('year', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('municipality_code', 'kind', 'category', 'year')
    )
    op.create_table('rollups_department_month',
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('department_code', 'kind', 'category', 'month')
    )
    op.create_table('rollups_municipality_year',
    sa.Column('municipality_code', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('year', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('municipality_code', 'kind', 'year')
    )
    # Installations that already hold reports start with sums of their rollups.
    op.execute(
        "INSERT INTO rollups_category_year "
        "(municipality_code, kind, category, year, department_code, count) "
        "SELECT municipality_code, kind, category, substr(month, 1, 4), department_code, "
        "sum(count) FROM rollups "
        "GROUP BY municipality_code, kind, category, substr(month, 1, 4), department_code"
    )
    op.execute(
        "INSERT INTO rollups_department_month (department_code, kind, category, month, count) "
        "SELECT department_code, kind, category, month, sum(count) FROM rollups "
        "GROUP BY department_code, kind, category, month"
    )
    op.execute(
        "INSERT INTO rollups_municipality_year "
        "(municipality_code, kind, year, department_code, count) "
        "SELECT municipality_code, kind, substr(month, 1, 4), department_code, sum(count) "
        "FROM rollups GROUP BY municipality_code, kind, substr(month, 1, 4), department_code"
    )


def downgrade() -> None:
    op.drop_table('rollups_municipality_year')
    op.drop_table('rollups_department_month')
    op.drop_table('rollups_category_year')
