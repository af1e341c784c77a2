"""The local network service's security groups and their rules (Neutron's).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

* security_groups: a project's groups; its "default" is made on first use, with the
  id ports holding NULL in ports.security_groups (0010) already mean.
* security_group_rules: their rules (direction, ethertype, protocol, port range, a
  remote CIDR or group).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


def upgrade() -> None:
    op.create_table(
        'security_groups',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.String(255), nullable=False),
        sa.Column('created_at', DateTime, nullable=True),
        sa.Column('updated_at', DateTime, nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_security_groups'))
    op.create_index('ix_security_groups_project_id', 'security_groups', ['project_id'])
    op.create_table(
        'security_group_rules',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('security_group_id', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('direction', sa.String(16), nullable=False),
        sa.Column('ethertype', sa.String(8), nullable=False),
        sa.Column('protocol', sa.String(40), nullable=True),
        sa.Column('port_range_min', sa.Integer(), nullable=True),
        sa.Column('port_range_max', sa.Integer(), nullable=True),
        sa.Column('remote_ip_prefix', sa.String(64), nullable=True),
        sa.Column('remote_group_id', sa.String(36), nullable=True),
        sa.Column('description', sa.String(255), nullable=False),
        sa.Column('created_at', DateTime, nullable=True),
        sa.Column('updated_at', DateTime, nullable=True),
        sa.ForeignKeyConstraint(['security_group_id'], ['security_groups.id'],
                                name='fk_security_group_rules_security_group_id_'
                                     'security_groups'),
        sa.PrimaryKeyConstraint('id', name='pk_security_group_rules'))
    op.create_index('ix_security_group_rules_security_group_id', 'security_group_rules',
                    ['security_group_id'])


def downgrade() -> None:
    op.drop_table('security_group_rules')
    op.drop_table('security_groups')
