"""Scheduler: build-failure counts, change indexes for host-state refresh, reports.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

* compute_nodes.failed_builds: consecutive failed builds on the node (the conductor
  counts them, a success resets), read by the BuildFailureWeigher.
* Indexes on compute_nodes.updated_at and services.updated_at: the scheduler keeps
  host states in memory and re-reads only the rows changed since its last look.
* scheduling_reports: the explanation of every scheduling decision, per instance and
  attempt (filters in order with the hosts each removed and why, then the weights).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')
_TABLE_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def upgrade() -> None:
    with op.batch_alter_table('compute_nodes') as batch:
        batch.add_column(sa.Column('failed_builds', sa.Integer, nullable=False,
                                   server_default='0'))
    op.create_index('ix_compute_nodes_updated_at', 'compute_nodes', ['updated_at'])
    op.create_index('ix_services_updated_at', 'services', ['updated_at'])

    op.create_table(
        'scheduling_reports',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('request_id', sa.String(255)),
        sa.Column('attempt', sa.Integer, nullable=False),
        sa.Column('result', sa.String(32), nullable=False),
        sa.Column('summary', sa.String(1024)),
        sa.Column('report', sa.Text, nullable=False),
        sa.Column('created_at', DateTime),
        **_TABLE_OPTIONS,
    )
    op.create_index('ix_scheduling_reports_instance_uuid', 'scheduling_reports',
                    ['instance_uuid'])


def downgrade() -> None:
    op.drop_table('scheduling_reports')
    op.drop_index('ix_services_updated_at', 'services')
    op.drop_index('ix_compute_nodes_updated_at', 'compute_nodes')
    with op.batch_alter_table('compute_nodes') as batch:
        batch.drop_column('failed_builds')
