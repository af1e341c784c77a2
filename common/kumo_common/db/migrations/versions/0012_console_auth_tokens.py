"""Remote consoles' tokens (Nova's console_auth_tokens).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

* console_auth_tokens: the SHA-256 of each console URL's token (never the token), the
  console type, the guest's host and port the proxy connects to, the instance, the
  URL's base and when the token expires.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


def upgrade() -> None:
    op.create_table(
        'console_auth_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(255), nullable=False),
        sa.Column('console_type', sa.String(255), nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('port', sa.Integer(), nullable=False),
        sa.Column('internal_access_path', sa.String(255), nullable=True),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('access_url_base', sa.String(255), nullable=True),
        sa.Column('expires_at', DateTime, nullable=False),
        sa.Column('created_at', DateTime, nullable=True),
        sa.Column('updated_at', DateTime, nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_console_auth_tokens'),
        sa.UniqueConstraint('token_hash', name='uniq_console_auth_tokens0token_hash'))
    op.create_index('ix_console_auth_tokens_instance_uuid', 'console_auth_tokens',
                    ['instance_uuid'])
    op.create_index('ix_console_auth_tokens_expires_at', 'console_auth_tokens',
                    ['expires_at'])


def downgrade() -> None:
    op.drop_table('console_auth_tokens')
