"""Quota classes: the limits of os-quota-class-sets.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

* quota_classes: one limit per (class_name, resource). The 'default' class overrides
  the [quota] options for every project (and user) without a limit of its own.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')
_TABLE_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def upgrade() -> None:
    op.create_table(
        'quota_classes',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('class_name', sa.String(255), nullable=False),
        sa.Column('resource', sa.String(255), nullable=False),
        sa.Column('hard_limit', sa.Integer, nullable=False),
        sa.Column('created_at', DateTime),
        sa.Column('updated_at', DateTime),
        sa.UniqueConstraint('class_name', 'resource',
                            name='uniq_quota_classes0class_name0resource'),
        **_TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table('quota_classes')
