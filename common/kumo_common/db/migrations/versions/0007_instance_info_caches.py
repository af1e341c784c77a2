"""Instance info caches: each server's ports as the conductor gave them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

* instance_info_caches: one row per server with ports (Nova's table): network_info,
  a JSON list of its ports ({id, network_id, network_name, mac_address, fixed_ips:
  [{ip_address, version}]}), oldest port first. Server views, the ip/ip6 filters and
  rebuild/rescue read it, so they work with an external Neutron too. Filled here from
  the local network service's ports of existing servers.
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')
_TABLE_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def upgrade() -> None:
    caches = op.create_table(
        'instance_info_caches',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('instance_uuid', sa.String(36), sa.ForeignKey('instances.uuid'),
                  nullable=False, unique=True),
        sa.Column('network_info', sa.Text),
        sa.Column('created_at', DateTime),
        sa.Column('updated_at', DateTime),
        **_TABLE_OPTIONS,
    )
    _fill(caches)


def _fill(caches: sa.Table) -> None:
    """The caches of existing servers, from the local ports tables (in the order the
    views showed them: oldest port first, then by port id and address)."""
    meta = sa.MetaData()
    instances = sa.Table('instances', meta, sa.Column('uuid', sa.String(36)),
                         sa.Column('deleted', sa.Integer))
    ports = sa.Table('ports', meta, sa.Column('id', sa.String(36)),
                     sa.Column('network_id', sa.String(36)),
                     sa.Column('device_id', sa.String(255)),
                     sa.Column('mac_address', sa.String(32)),
                     sa.Column('created_at', DateTime))
    networks = sa.Table('networks', meta, sa.Column('id', sa.String(36)),
                        sa.Column('name', sa.String(255)))
    ips = sa.Table('ip_allocations', meta, sa.Column('ip_address', sa.String(64)),
                   sa.Column('port_id', sa.String(36)))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(ports.c.device_id, ports.c.id, ports.c.network_id, networks.c.name,
                  ports.c.mac_address, ports.c.created_at, ips.c.ip_address)
        .join(networks, networks.c.id == ports.c.network_id)
        .join(instances, instances.c.uuid == ports.c.device_id)
        .outerjoin(ips, ips.c.port_id == ports.c.id)
        .where(instances.c.deleted == 0)).all()
    by_server: dict[str, dict[str, dict]] = {}
    order: dict[str, tuple] = {}
    for device_id, port_id, network_id, name, mac, created_at, address in rows:
        port = by_server.setdefault(device_id, {}).setdefault(port_id, {
            'id': port_id, 'network_id': network_id, 'network_name': name or '',
            'mac_address': mac, 'fixed_ips': []})
        order[port_id] = (created_at is not None, created_at or 0, port_id)
        if address is not None:
            port['fixed_ips'].append({'ip_address': address,
                                      'version': 6 if ':' in address else 4})
    values = []
    for device_id, server_ports in by_server.items():
        listed = sorted(server_ports.values(), key=lambda p: order[p['id']])
        for port in listed:
            port['fixed_ips'].sort(key=lambda ip: ip['ip_address'])
        values.append({'instance_uuid': device_id, 'network_info': json.dumps(listed)})
    if values:
        op.bulk_insert(caches, values)


def downgrade() -> None:
    op.drop_table('instance_info_caches')
