"""The security groups of the local network service's ports.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

* ports.security_groups: a JSON list of group ids, written when a server's groups
  change (the addSecurityGroup / removeSecurityGroup actions); NULL means the
  project's "default" group, which every port had until now.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('ports', sa.Column('security_groups', sa.Text()))


def downgrade() -> None:
    op.drop_column('ports', 'security_groups')
