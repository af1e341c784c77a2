"""Image and network services: the Glance and Neutron attributes they serve.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

* images: os_hash_algo/os_hash_value (Glance's multihash, sha512), virtual_size,
  os_hidden; image_tags: Glance image tags.
* networks: description, admin_state_up, router_external ("router:external").
* subnets: description, dns_nameservers, host_routes.
* ports: name, description, admin_state_up, binding_host_id ("binding:host_id") and
  preserve_on_delete (a port made through the network API and given to a server is
  only unbound when the server is deleted, as Nova does with Neutron).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}
_FALSE = sa.false()
_TRUE = sa.true()


def upgrade() -> None:
    with op.batch_alter_table('images') as batch:
        batch.add_column(sa.Column('os_hash_algo', sa.String(64)))
        batch.add_column(sa.Column('os_hash_value', sa.String(128)))
        batch.add_column(sa.Column('virtual_size', sa.BigInteger))
        batch.add_column(sa.Column('os_hidden', sa.Boolean, nullable=False,
                                   server_default=_FALSE))
    op.create_table(
        'image_tags',
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'), primary_key=True),
        sa.Column('tag', sa.String(255), primary_key=True),
        **_TABLE_OPTIONS,
    )

    with op.batch_alter_table('networks') as batch:
        batch.add_column(sa.Column('description', sa.String(255), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('admin_state_up', sa.Boolean, nullable=False,
                                   server_default=_TRUE))
        batch.add_column(sa.Column('router_external', sa.Boolean, nullable=False,
                                   server_default=_FALSE))
    with op.batch_alter_table('subnets') as batch:
        batch.add_column(sa.Column('description', sa.String(255), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('dns_nameservers', sa.Text))
        batch.add_column(sa.Column('host_routes', sa.Text))
    with op.batch_alter_table('ports') as batch:
        batch.add_column(sa.Column('name', sa.String(255), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('description', sa.String(255), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('admin_state_up', sa.Boolean, nullable=False,
                                   server_default=_TRUE))
        batch.add_column(sa.Column('binding_host_id', sa.String(255)))
        batch.add_column(sa.Column('preserve_on_delete', sa.Boolean, nullable=False,
                                   server_default=_FALSE))


def downgrade() -> None:
    with op.batch_alter_table('ports') as batch:
        for column in ('preserve_on_delete', 'binding_host_id', 'admin_state_up',
                       'description', 'name'):
            batch.drop_column(column)
    with op.batch_alter_table('subnets') as batch:
        for column in ('host_routes', 'dns_nameservers', 'description'):
            batch.drop_column(column)
    with op.batch_alter_table('networks') as batch:
        for column in ('router_external', 'admin_state_up', 'description'):
            batch.drop_column(column)
    op.drop_table('image_tags')
    with op.batch_alter_table('images') as batch:
        for column in ('os_hidden', 'virtual_size', 'os_hash_value', 'os_hash_algo'):
            batch.drop_column(column)
