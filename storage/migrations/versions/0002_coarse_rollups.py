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

# Each new table: its key columns (place, kind, [category], period) and whether the
# period is the year (summed from the month text of the existing rollups).
TABLES = {
    'rollups_department_month': (('department_code', 'kind', 'month'), False),
    'rollups_department_category_month': (('department_code', 'kind', 'category', 'month'), False),
    'rollups_municipality_year': (('municipality_code', 'kind', 'year'), True),
    'rollups_municipality_category_year': (('municipality_code', 'kind', 'category', 'year'), True),
}
LENGTHS = {'department_code': 2, 'municipality_code': 5, 'kind': 32, 'category': 64,
           'month': 7, 'year': 4}


def upgrade() -> None:
    for table, (keys, _by_year) in TABLES.items():
        columns = [
            sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=LENGTHS[name]), nullable=False)
            for name in keys
        ]
        if keys[0] == 'municipality_code':
            columns.append(sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=2),
                                     nullable=False))
        op.create_table(table, *columns, sa.Column('count', sa.Integer(), nullable=False),
                        sa.PrimaryKeyConstraint(*keys))
    # Installations that already hold reports start with sums of their rollups.
    for table, (keys, by_year) in TABLES.items():
        names = list(keys) + (['department_code'] if keys[0] == 'municipality_code' else [])
        sources = ['substr(month, 1, 4)' if by_year and name == 'year' else name
                   for name in names]
        op.execute(
            f"INSERT INTO {table} ({', '.join(names)}, count) "
            f"SELECT {', '.join(sources)}, sum(count) FROM rollups "
            f"GROUP BY {', '.join(sources)}"
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
