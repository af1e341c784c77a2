"""The host an admin asked a cold migration to go to.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

* migrations.requested_host: the `host` of a cold migration (the migrate action,
  2.56), kept with the migration so that a re-driven scheduling (the conductor's
  reaper, after a lost cast) still sends the server there.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('migrations', sa.Column('requested_host', sa.String(255)))


def downgrade() -> None:
    op.drop_column('migrations', 'requested_host')
