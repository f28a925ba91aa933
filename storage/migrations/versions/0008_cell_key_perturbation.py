"""cell-key perturbation: a record key per report, cell keys and perturbed sums in rollups

Every report gets a random 32-bit record key; the finest rollups keep the sum of
their reports' keys (the cell key) and every rollup table the sum of perturbed
noise cells (storage.cellkey). The finest rollups get an index on the month: a
window up to the last closed month reads year tables less the months after it. Community-priority answers get their own noise
cells, municipality × month × ranking (priority_answers).

Answers stored before this revision have their ranking sealed in the report, which
this migration cannot open: each counts as a ranking of its first concern (its
category) alone. Their tallies keep their true counts, but their second and third
concerns no longer add to the published Borda points.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import secrets
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.cellkey import KEY_SPACE, perturb
from storage.models import UTCDateTime

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COARSE = {
    'rollups_department_month': ('department_code', 'kind', 'month'),
    'rollups_department_category_month': ('department_code', 'kind', 'category', 'month'),
    'rollups_municipality_year': ('municipality_code', 'kind', 'year'),
    'rollups_municipality_category_year': ('municipality_code', 'kind', 'category', 'year'),
}
FINEST = ('municipality_code', 'kind', 'category', 'month')


def _zero(name: str, kind: sa.types.TypeEngine[int]) -> sa.Column[int]:
    return sa.Column(name, kind, nullable=False, server_default='0')


def upgrade() -> None:
    with op.batch_alter_table('reports') as batch:
        batch.add_column(sa.Column('record_key', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('rollups') as batch:
        batch.add_column(_zero('key_sum', sa.BigInteger()))
        batch.add_column(_zero('perturbed', sa.Integer()))
        batch.create_index(batch.f('ix_rollups_month'), ['month'], unique=False)
    for table in (*COARSE, 'priority_tallies'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(_zero('perturbed', sa.Integer()))
    op.create_table(
        'priority_answers',
        sa.Column('municipality_code', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('ranking', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        _zero('key_sum', sa.BigInteger()),
        _zero('perturbed', sa.Integer()),
        sa.PrimaryKeyConstraint('municipality_code', 'month', 'ranking'),
    )
    _fill()
    with op.batch_alter_table('reports') as batch:
        batch.alter_column('record_key', existing_type=sa.BigInteger(), nullable=False)


def _fill() -> None:
    """Record keys for the stored reports, then every cell key and perturbed sum."""
    bind = op.get_bind()
    reports = sa.table('reports', sa.column('id', sa.String()),
                       sa.column('municipality_code', sa.String()), sa.column('kind', sa.String()),
                       sa.column('category', sa.String()),
                       sa.column('created_hour', UTCDateTime()),
                       sa.column('record_key', sa.BigInteger()))
    keys: dict[tuple[str, ...], int] = defaultdict(int)
    updates = []
    for row in bind.execute(sa.select(reports.c.id, reports.c.municipality_code, reports.c.kind,
                                      reports.c.category, reports.c.created_hour)).all():
        record_key = secrets.randbits(32)
        updates.append({'_id': row.id, 'record_key': record_key})
        cell = (row.municipality_code, row.kind, row.category, row.created_hour.strftime('%Y-%m'))
        keys[cell] = (keys[cell] + record_key) % KEY_SPACE
    if updates:
        bind.execute(reports.update().where(reports.c.id == sa.bindparam('_id')), updates)

    rollups = sa.table('rollups', *(sa.column(name, sa.String()) for name in FINEST),
                       sa.column('department_code', sa.String()), sa.column('count', sa.Integer()),
                       sa.column('key_sum', sa.BigInteger()), sa.column('perturbed', sa.Integer()))
    finest = []
    for row in bind.execute(sa.select(rollups)).all():
        cell = tuple(getattr(row, name) for name in FINEST)
        finest.append((cell, row.count, keys.get(cell, 0)))
    if finest:
        bind.execute(
            rollups.update().where(*(rollups.c[name] == sa.bindparam(f'_{name}')
                                     for name in FINEST)),
            [{**{f'_{name}': value for name, value in zip(FINEST, cell, strict=True)},
              'key_sum': key, 'perturbed': perturb(count, key)} for cell, count, key in finest])

    # Priority answers: one ranking of the first concern each (the rest is sealed).
    answers = sa.table('priority_answers', sa.column('municipality_code', sa.String()),
                       sa.column('month', sa.String()), sa.column('ranking', sa.String()),
                       sa.column('department_code', sa.String()), sa.column('count', sa.Integer()),
                       sa.column('key_sum', sa.BigInteger()), sa.column('perturbed', sa.Integer()))
    ranked = [{'municipality_code': cell[0], 'month': cell[3], 'ranking': cell[2],
               'department_code': cell[0][:2], 'count': count, 'key_sum': key,
               'perturbed': perturb(count, key)}
              for cell, count, key in finest if cell[1] == 'priority' and count]
    if ranked:
        bind.execute(answers.insert(), ranked)
        tallies = sa.table('priority_tallies', sa.column('municipality_code', sa.String()),
                           sa.column('month', sa.String()), sa.column('concern', sa.String()),
                           sa.column('rank', sa.Integer()), sa.column('perturbed', sa.Integer()))
        bind.execute(
            tallies.update().where(tallies.c.municipality_code == sa.bindparam('_m'),
                                   tallies.c.month == sa.bindparam('_month'),
                                   tallies.c.concern == sa.bindparam('_concern'),
                                   tallies.c.rank == 1),
            [{'_m': r['municipality_code'], '_month': r['month'], '_concern': r['ranking'],
              'perturbed': r['perturbed']} for r in ranked])

    # Coarser tables: sums of the finest perturbed values.
    for table, key_columns in COARSE.items():
        sums: dict[tuple[str, ...], int] = defaultdict(int)
        for cell, count, key in finest:
            municipality, kind, category, month = cell
            place = municipality if key_columns[0] == 'municipality_code' else municipality[:2]
            period = month[:4] if key_columns[-1] == 'year' else month
            middle = (kind, category) if 'category' in key_columns else (kind,)
            sums[(place, *middle, period)] += perturb(count, key)
        coarse = sa.table(table, *(sa.column(name, sa.String()) for name in key_columns),
                          sa.column('perturbed', sa.Integer()))
        if sums:
            bind.execute(
                coarse.update().where(*(coarse.c[name] == sa.bindparam(f'_{name}')
                                        for name in key_columns)),
                [{**{f'_{name}': value for name, value in zip(key_columns, cell, strict=True)},
                  'perturbed': value} for cell, value in sums.items()])


def downgrade() -> None:
    op.drop_table('priority_answers')
    for table in ('priority_tallies', *reversed(COARSE)):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('perturbed')
    with op.batch_alter_table('rollups') as batch:
        batch.drop_index(batch.f('ix_rollups_month'))
        batch.drop_column('perturbed')
        batch.drop_column('key_sum')
    with op.batch_alter_table('reports') as batch:
        batch.drop_column('record_key')
