"""chat epochs: slow, epoch-scoped chat pseudonyms; rows keyed by the old fast ones go

Rows keyed by HMAC(pepper, chat id) name a Telegram account to whoever holds the key
file (the id space is small enough to try in core-hours), and the new code, which keys
chats by Argon2id under an epoch's pepper (storage.epochs), can no longer find them: they
are deleted. A conversation open during the upgrade starts again; a language choice is
asked again; message ids recorded before the upgrade can no longer be wiped from the
phone (a "Borrar esta conversación" after the upgrade deletes only newer messages).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

rate_limits = sa.table('rate_limits', sa.column('key', sa.String()))


def _forget_chat_rows() -> None:
    # The pseudonyms of one scheme mean nothing to the other.
    for table in ('draft_attachments', 'drafts', 'chat_traces', 'chat_preferences'):
        op.execute(f'DELETE FROM {table}')
    # Rate limits of chats are '<pseudonym>:messages' and '<pseudonym>:receipt'; those of
    # sign-ins ('login:…', 'password:…') stay.
    key = rate_limits.c.key
    op.execute(rate_limits.delete().where(sa.or_(key.like('%:messages'), key.like('%:receipt'))))


def upgrade() -> None:
    op.create_table('chat_epochs',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('starts_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('crypto_pepper', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    _forget_chat_rows()


def downgrade() -> None:
    _forget_chat_rows()
    op.drop_table('chat_epochs')
