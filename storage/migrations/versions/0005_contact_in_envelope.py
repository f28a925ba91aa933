"""a consenting reporter's chat id is sealed for the report's recipients, not the server
key; a settled notification forgets its payload

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# storage.outbox.MAX_ATTEMPTS when this revision was written.
GIVEN_UP = 8


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.alter_column('crypto_payload', existing_type=sa.LargeBinary(), nullable=True)
    outbox = sa.table('outbox', sa.column('crypto_payload', sa.LargeBinary()),
                      sa.column('sent_at', sa.DateTime()), sa.column('attempts', sa.Integer()))
    op.execute(outbox.update().where(
        sa.or_(outbox.c.sent_at.is_not(None), outbox.c.attempts >= GIVEN_UP)
    ).values(crypto_payload=None))
    # Contact handles sealed with the server key cannot be moved into the envelope here
    # (no data key is at hand): they are dropped, so the key file alone opens none.
    reports = sa.table('reports', sa.column('crypto_contact', sa.LargeBinary()))
    op.execute(reports.update().values(crypto_contact=None))


def downgrade() -> None:
    outbox = sa.table('outbox', sa.column('crypto_payload', sa.LargeBinary()))
    op.execute(outbox.delete().where(outbox.c.crypto_payload.is_(None)))
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.alter_column('crypto_payload', existing_type=sa.LargeBinary(), nullable=False)
