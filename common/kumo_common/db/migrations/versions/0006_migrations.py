"""Migrations: the record (and claim owner) of a resize.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

* migrations: one row per resize (Nova's table, plus the flavors, the vm_state to
  return to, where the source put the server's files aside and the agent step in
  flight). While a resize is in flight its row owns the source's claim
  (allocations.instance_uuid = migrations.uuid).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')
_TABLE_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def upgrade() -> None:
    op.create_table(
        'migrations',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('migration_type', sa.String(32), nullable=False),
        sa.Column('status', sa.String(255), nullable=False),
        sa.Column('source_compute', sa.String(255)),
        sa.Column('source_node', sa.String(255)),
        sa.Column('source_node_uuid', sa.String(36)),
        sa.Column('dest_compute', sa.String(255)),
        sa.Column('dest_node', sa.String(255)),
        sa.Column('dest_node_uuid', sa.String(36)),
        sa.Column('dest_host', sa.String(255)),
        sa.Column('old_instance_type_id', sa.Integer),
        sa.Column('new_instance_type_id', sa.Integer),
        sa.Column('old_flavor', sa.Text),
        sa.Column('new_flavor', sa.Text),
        sa.Column('old_vm_state', sa.String(255)),
        sa.Column('source_path', sa.Text),
        sa.Column('step_id', sa.String(255)),
        sa.Column('user_id', sa.String(255)),
        sa.Column('project_id', sa.String(255)),
        sa.Column('hidden', sa.Boolean, nullable=False),
        sa.Column('created_at', DateTime),
        sa.Column('updated_at', DateTime),
        **_TABLE_OPTIONS,
    )
    op.create_index('migrations_instance_uuid_status_idx', 'migrations',
                    ['instance_uuid', 'status'])


def downgrade() -> None:
    op.drop_index('migrations_instance_uuid_status_idx', 'migrations')
    op.drop_table('migrations')
