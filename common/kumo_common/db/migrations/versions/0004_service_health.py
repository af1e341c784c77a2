"""Service health: the conductor's RPC echo of each compute agent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

* services.echo_at: when the conductor last sent the agent an RPC echo (ping);
* services.echo_error: why that echo failed (NULL: it was answered). Kept apart from
  disabled_reason, which is the operator's: a host can be enabled and down.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


def upgrade() -> None:
    with op.batch_alter_table('services') as batch:
        batch.add_column(sa.Column('echo_at', DateTime))
        batch.add_column(sa.Column('echo_error', sa.String(255)))


def downgrade() -> None:
    with op.batch_alter_table('services') as batch:
        batch.drop_column('echo_error')
        batch.drop_column('echo_at')
