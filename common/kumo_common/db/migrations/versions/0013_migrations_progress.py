"""How far a live migration's copy has got (Nova's progress counters).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

* migrations.memory_total, memory_processed, memory_remaining, disk_total,
  disk_processed, disk_remaining: bytes, as the source's hypervisor counts them
  while it copies a running guest (null when unknown); GET
  /servers/{id}/migrations shows them as memory_total_bytes and so on.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = tuple(f'{what}_{count}' for what in ('memory', 'disk')
                for count in ('total', 'processed', 'remaining'))


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column('migrations', sa.Column(name, sa.BigInteger(), nullable=True))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column('migrations', name)
