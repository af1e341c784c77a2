"""Initial schema: every table of Kumo's database.

Revision ID: 0001
Revises:
Create Date: 2026-11-29

Written out in full rather than imported from the models: a migration is a frozen
picture of the schema at its revision, and later model changes come as new revisions.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Microseconds on MariaDB too (plain DATETIME drops them there).
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')

# InnoDB and utf8mb4 whatever the MariaDB server's defaults; ignored elsewhere.
_TABLE_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def _timestamps() -> list[sa.Column]:
    return [sa.Column('created_at', DateTime), sa.Column('updated_at', DateTime)]


def upgrade() -> None:
    # --- services and hosts ----------------------------------------------------------
    op.create_table(
        'services',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('binary', sa.String(255), nullable=False),
        sa.Column('topic', sa.String(255)),
        sa.Column('disabled', sa.Boolean, nullable=False),
        sa.Column('disabled_reason', sa.String(255)),
        sa.Column('forced_down', sa.Boolean, nullable=False),
        sa.Column('last_seen_up', DateTime),
        sa.Column('report_count', sa.Integer, nullable=False),
        sa.Column('version', sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('host', 'binary', name='uniq_services0host0binary'),
        **_TABLE_OPTIONS,
    )

    op.create_table(
        'compute_nodes',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('service_id', sa.Integer, sa.ForeignKey('services.id')),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('hypervisor_hostname', sa.String(255), nullable=False),
        sa.Column('host_ip', sa.String(39)),
        sa.Column('availability_zone', sa.String(255)),
        sa.Column('cell_name', sa.String(255)),
        sa.Column('hypervisor_type', sa.String(255), nullable=False),
        sa.Column('hypervisor_version', sa.Integer, nullable=False),
        sa.Column('cpu_info', sa.Text, nullable=False),
        sa.Column('vcpus', sa.Integer, nullable=False),
        sa.Column('memory_mb', sa.Integer, nullable=False),
        sa.Column('local_gb', sa.Integer, nullable=False),
        sa.Column('vcpus_used', sa.Integer, nullable=False),
        sa.Column('memory_mb_used', sa.Integer, nullable=False),
        sa.Column('local_gb_used', sa.Integer, nullable=False),
        sa.Column('running_vms', sa.Integer, nullable=False),
        sa.Column('cpu_allocation_ratio', sa.Double, nullable=False),
        sa.Column('ram_allocation_ratio', sa.Double, nullable=False),
        sa.Column('disk_allocation_ratio', sa.Double, nullable=False),
        sa.Column('reserved_host_memory_mb', sa.Integer, nullable=False),
        sa.Column('reserved_host_disk_mb', sa.Integer, nullable=False),
        sa.Column('reserved_host_cpus', sa.Integer, nullable=False),
        sa.Column('deleted', sa.Boolean, nullable=False),
        *_timestamps(),
        **_TABLE_OPTIONS,
    )
    op.create_index('ix_compute_nodes_host', 'compute_nodes', ['host'])
    op.create_index('ix_compute_nodes_service_id', 'compute_nodes', ['service_id'])

    op.create_table(
        'allocations',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('compute_node_id', sa.Integer, sa.ForeignKey('compute_nodes.id'), nullable=False),
        sa.Column('vcpus', sa.Integer, nullable=False),
        sa.Column('memory_mb', sa.Integer, nullable=False),
        sa.Column('disk_gb', sa.Integer, nullable=False),
        sa.Column('created_at', DateTime),
        sa.UniqueConstraint('instance_uuid', 'compute_node_id',
                            name='uniq_allocations0instance0node'),
        **_TABLE_OPTIONS,
    )
    op.create_index('ix_allocations_compute_node_id', 'allocations', ['compute_node_id'])
    op.create_index('ix_allocations_instance_uuid', 'allocations', ['instance_uuid'])

    op.create_table(
        'aggregates',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('name', sa.String(255), nullable=False, unique=True),
        *_timestamps(),
        **_TABLE_OPTIONS,
    )

    op.create_table(
        'aggregate_hosts',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('aggregate_id', sa.Integer, sa.ForeignKey('aggregates.id'), nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.UniqueConstraint('aggregate_id', 'host',
                            name='uniq_aggregate_hosts0aggregate0host'),
        **_TABLE_OPTIONS,
    )
    op.create_index('ix_aggregate_hosts_host', 'aggregate_hosts', ['host'])

    op.create_table(
        'aggregate_metadata',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('aggregate_id', sa.Integer, sa.ForeignKey('aggregates.id'), nullable=False),
        sa.Column('key', sa.String(255), nullable=False),
        sa.Column('value', sa.String(255), nullable=False),
        sa.UniqueConstraint('aggregate_id', 'key',
                            name='uniq_aggregate_metadata0aggregate0key'),
        **_TABLE_OPTIONS,
    )

    # --- flavors ----------------------------------------------------------------------
    op.create_table(
        'flavors',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('flavorid', sa.String(255), nullable=False, unique=True),
        sa.Column('name', sa.String(255), nullable=False, unique=True),
        sa.Column('memory_mb', sa.Integer, nullable=False),
        sa.Column('vcpus', sa.Integer, nullable=False),
        sa.Column('root_gb', sa.Integer, nullable=False),
        sa.Column('ephemeral_gb', sa.Integer, nullable=False),
        sa.Column('swap', sa.Integer, nullable=False),
        sa.Column('rxtx_factor', sa.Double, nullable=False),
        sa.Column('vcpu_weight', sa.Integer),
        sa.Column('disabled', sa.Boolean, nullable=False),
        sa.Column('is_public', sa.Boolean, nullable=False),
        sa.Column('description', sa.Text),
        *_timestamps(),
        **_TABLE_OPTIONS,
    )

    op.create_table(
        'flavor_extra_specs',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('flavor_id', sa.Integer, sa.ForeignKey('flavors.id'), nullable=False),
        sa.Column('key', sa.String(255), nullable=False),
        sa.Column('value', sa.String(255)),
        sa.UniqueConstraint('flavor_id', 'key', name='uniq_flavor_extra_specs0flavor0key'),
        **_TABLE_OPTIONS,
    )

    op.create_table(
        'flavor_projects',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('flavor_id', sa.Integer, sa.ForeignKey('flavors.id'), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.UniqueConstraint('flavor_id', 'project_id',
                            name='uniq_flavor_projects0flavor0project'),
        **_TABLE_OPTIONS,
    )

    # --- instances --------------------------------------------------------------------
    op.create_table(
        'instances',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('display_name', sa.String(255)),
        sa.Column('display_description', sa.Text),
        sa.Column('hostname', sa.String(255)),
        sa.Column('reservation_id', sa.String(255)),
        sa.Column('launch_index', sa.Integer),
        sa.Column('image_ref', sa.String(255)),
        sa.Column('kernel_id', sa.String(255)),
        sa.Column('ramdisk_id', sa.String(255)),
        sa.Column('instance_type_id', sa.Integer),
        sa.Column('flavor', sa.Text),
        sa.Column('vcpus', sa.Integer, nullable=False),
        sa.Column('memory_mb', sa.Integer, nullable=False),
        sa.Column('root_gb', sa.Integer, nullable=False),
        sa.Column('ephemeral_gb', sa.Integer, nullable=False),
        sa.Column('key_name', sa.String(255)),
        sa.Column('key_data', sa.Text),
        sa.Column('user_data', sa.Text),
        sa.Column('admin_password', sa.String(255)),
        sa.Column('config_drive', sa.String(255)),
        sa.Column('auto_disk_config', sa.Boolean, nullable=False),
        sa.Column('access_ip_v4', sa.String(39)),
        sa.Column('access_ip_v6', sa.String(39)),
        sa.Column('root_device_name', sa.String(255)),
        sa.Column('os_type', sa.String(255)),
        sa.Column('architecture', sa.String(255)),
        sa.Column('trusted_certs', sa.Text),
        sa.Column('vm_state', sa.String(255)),
        sa.Column('task_state', sa.String(255)),
        sa.Column('power_state', sa.Integer),
        sa.Column('progress', sa.Integer),
        sa.Column('task_deadline', DateTime),
        sa.Column('task_request_id', sa.String(255)),
        sa.Column('host', sa.String(255)),
        sa.Column('node', sa.String(255)),
        sa.Column('compute_node_uuid', sa.String(36)),
        sa.Column('cell_name', sa.String(255)),
        sa.Column('availability_zone', sa.String(255)),
        sa.Column('pinned_availability_zone', sa.String(255)),
        sa.Column('locked', sa.Boolean, nullable=False),
        sa.Column('locked_by', sa.String(255)),
        sa.Column('locked_reason', sa.String(255)),
        sa.Column('scheduled_at', DateTime),
        sa.Column('launched_at', DateTime),
        sa.Column('terminated_at', DateTime),
        sa.Column('deleted_at', DateTime),
        sa.Column('deleted', sa.Integer, nullable=False),
        *_timestamps(),
        **_TABLE_OPTIONS,
    )
    op.create_index('instances_host_deleted_idx', 'instances', ['host', 'deleted'])
    op.create_index('instances_project_id_deleted_idx',
                    'instances', ['project_id', 'deleted'])
    op.create_index('instances_reservation_id_idx', 'instances', ['reservation_id'])
    op.create_index('instances_task_deadline_idx', 'instances', ['task_deadline'])

    op.create_table(
        'instance_metadata',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('instance_uuid', sa.String(36), sa.ForeignKey('instances.uuid'), nullable=False),
        sa.Column('key', sa.String(255), nullable=False),
        sa.Column('value', sa.String(255)),
        sa.UniqueConstraint('instance_uuid', 'key',
                            name='uniq_instance_metadata0instance0key'),
        **_TABLE_OPTIONS,
    )

    op.create_table(
        'instance_system_metadata',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('instance_uuid', sa.String(36), sa.ForeignKey('instances.uuid'), nullable=False),
        sa.Column('key', sa.String(255), nullable=False),
        sa.Column('value', sa.Text),
        sa.UniqueConstraint('instance_uuid', 'key',
                            name='uniq_instance_system_metadata0instance0key'),
        **_TABLE_OPTIONS,
    )

    op.create_table(
        'tags',
        sa.Column('resource_id', sa.String(36), sa.ForeignKey('instances.uuid'), primary_key=True),
        sa.Column('tag', sa.String(80), primary_key=True),
        **_TABLE_OPTIONS,
    )

    op.create_table(
        'instance_faults',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('code', sa.Integer, nullable=False),
        sa.Column('message', sa.String(255)),
        sa.Column('details', sa.Text),
        sa.Column('host', sa.String(255)),
        sa.Column('created_at', DateTime),
        **_TABLE_OPTIONS,
    )
    op.create_index('ix_instance_faults_instance_uuid',
                    'instance_faults', ['instance_uuid'])

    op.create_table(
        'instance_actions',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('action', sa.String(255), nullable=False),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('request_id', sa.String(255)),
        sa.Column('user_id', sa.String(255)),
        sa.Column('project_id', sa.String(255)),
        sa.Column('start_time', DateTime),
        sa.Column('finish_time', DateTime),
        sa.Column('message', sa.String(255)),
        *_timestamps(),
        **_TABLE_OPTIONS,
    )
    op.create_index('instance_actions_instance_uuid_idx',
                    'instance_actions', ['instance_uuid'])
    op.create_index('instance_actions_request_id_idx', 'instance_actions', ['request_id'])

    op.create_table(
        'instance_actions_events',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('action_id', sa.Integer, sa.ForeignKey('instance_actions.id'), nullable=False),
        sa.Column('event', sa.String(255), nullable=False),
        sa.Column('result', sa.String(255)),
        sa.Column('traceback', sa.Text),
        sa.Column('start_time', DateTime),
        sa.Column('finish_time', DateTime),
        sa.Column('host', sa.String(255)),
        sa.Column('details', sa.Text),
        *_timestamps(),
        **_TABLE_OPTIONS,
    )
    op.create_index('ix_instance_actions_events_action_id',
                    'instance_actions_events', ['action_id'])

    op.create_table(
        'block_device_mappings',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('instance_uuid', sa.String(36), sa.ForeignKey('instances.uuid'), nullable=False),
        sa.Column('source_type', sa.String(255), nullable=False),
        sa.Column('destination_type', sa.String(255), nullable=False),
        sa.Column('device_name', sa.String(255)),
        sa.Column('boot_index', sa.Integer),
        sa.Column('volume_size', sa.Integer),
        sa.Column('guest_format', sa.String(255)),
        sa.Column('device_type', sa.String(255)),
        sa.Column('disk_bus', sa.String(255)),
        sa.Column('image_id', sa.String(36)),
        sa.Column('volume_id', sa.String(36)),
        sa.Column('snapshot_id', sa.String(36)),
        sa.Column('volume_type', sa.String(255)),
        sa.Column('delete_on_termination', sa.Boolean, nullable=False),
        sa.Column('no_device', sa.Boolean, nullable=False),
        sa.Column('tag', sa.String(255)),
        *_timestamps(),
        **_TABLE_OPTIONS,
    )
    op.create_index('ix_block_device_mappings_instance_uuid',
                    'block_device_mappings', ['instance_uuid'])

    op.create_table(
        'request_specs',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('instance_uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('spec', sa.Text, nullable=False),
        sa.Column('scheduler_hints', sa.Text),
        *_timestamps(),
        **_TABLE_OPTIONS,
    )

    # --- keypairs, groups, quotas -----------------------------------------------------
    op.create_table(
        'keypairs',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('fingerprint', sa.String(255)),
        sa.Column('public_key', sa.Text),
        sa.Column('type', sa.String(16), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('user_id', 'name', name='uniq_keypairs0user0name'),
        **_TABLE_OPTIONS,
    )

    op.create_table(
        'server_groups',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('name', sa.String(255)),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('policy', sa.String(255), nullable=False),
        sa.Column('rules', sa.Text),
        *_timestamps(),
        **_TABLE_OPTIONS,
    )
    op.create_index('ix_server_groups_project_id', 'server_groups', ['project_id'])

    op.create_table(
        'server_group_members',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('group_id', sa.Integer, sa.ForeignKey('server_groups.id'), nullable=False),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.UniqueConstraint('group_id', 'instance_uuid',
                            name='uniq_server_group_members0group0instance'),
        **_TABLE_OPTIONS,
    )
    op.create_index('ix_server_group_members_instance_uuid',
                    'server_group_members', ['instance_uuid'])

    op.create_table(
        'quotas',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('resource', sa.String(255), nullable=False),
        sa.Column('hard_limit', sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('project_id', 'user_id', 'resource',
                            name='uniq_quotas0project0user0resource'),
        **_TABLE_OPTIONS,
    )

    op.create_table(
        'quota_usages',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('resource', sa.String(255), nullable=False),
        sa.Column('in_use', sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('project_id', 'user_id', 'resource',
                            name='uniq_quota_usages0project0user0resource'),
        **_TABLE_OPTIONS,
    )

    # --- images (local catalog) -------------------------------------------------------
    op.create_table(
        'images',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255)),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('visibility', sa.String(30), nullable=False),
        sa.Column('owner', sa.String(255)),
        sa.Column('checksum', sa.String(64)),
        sa.Column('size', sa.BigInteger),
        sa.Column('disk_format', sa.String(30)),
        sa.Column('container_format', sa.String(30)),
        sa.Column('min_ram', sa.Integer, nullable=False),
        sa.Column('min_disk', sa.Integer, nullable=False),
        sa.Column('protected', sa.Boolean, nullable=False),
        sa.Column('location', sa.Text),
        *_timestamps(),
        **_TABLE_OPTIONS,
    )

    op.create_table(
        'image_properties',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('value', sa.Text),
        sa.UniqueConstraint('image_id', 'name', name='uniq_image_properties0image0name'),
        **_TABLE_OPTIONS,
    )

    # --- networks ---------------------------------------------------------------------
    op.create_table(
        'networks',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('project_id', sa.String(255)),
        sa.Column('shared', sa.Boolean, nullable=False),
        sa.Column('is_default', sa.Boolean, nullable=False),
        sa.Column('mtu', sa.Integer, nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        *_timestamps(),
        **_TABLE_OPTIONS,
    )

    op.create_table(
        'subnets',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('network_id', sa.String(36), sa.ForeignKey('networks.id'), nullable=False),
        sa.Column('name', sa.String(255)),
        sa.Column('cidr', sa.String(64), nullable=False),
        sa.Column('ip_version', sa.Integer, nullable=False),
        sa.Column('gateway_ip', sa.String(64)),
        sa.Column('allocation_pools', sa.Text),
        sa.Column('enable_dhcp', sa.Boolean, nullable=False),
        *_timestamps(),
        **_TABLE_OPTIONS,
    )
    op.create_index('ix_subnets_network_id', 'subnets', ['network_id'])

    op.create_table(
        'ports',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('network_id', sa.String(36), sa.ForeignKey('networks.id'), nullable=False),
        sa.Column('project_id', sa.String(255)),
        sa.Column('device_id', sa.String(255)),
        sa.Column('device_owner', sa.String(255)),
        sa.Column('mac_address', sa.String(32), nullable=False, unique=True),
        sa.Column('status', sa.String(16), nullable=False),
        *_timestamps(),
        **_TABLE_OPTIONS,
    )
    op.create_index('ix_ports_device_id', 'ports', ['device_id'])
    op.create_index('ix_ports_network_id', 'ports', ['network_id'])

    op.create_table(
        'ip_allocations',
        sa.Column('subnet_id', sa.String(36), sa.ForeignKey('subnets.id'), primary_key=True),
        sa.Column('ip_address', sa.String(64), primary_key=True),
        sa.Column('port_id', sa.String(36), sa.ForeignKey('ports.id'), nullable=False),
        **_TABLE_OPTIONS,
    )
    op.create_index('ix_ip_allocations_port_id', 'ip_allocations', ['port_id'])


def downgrade() -> None:
    # The reverse of upgrade: children before parents; indexes go with their tables.
    op.drop_table('ip_allocations')
    op.drop_table('ports')
    op.drop_table('subnets')
    op.drop_table('networks')
    op.drop_table('image_properties')
    op.drop_table('images')
    op.drop_table('quota_usages')
    op.drop_table('quotas')
    op.drop_table('server_group_members')
    op.drop_table('server_groups')
    op.drop_table('keypairs')
    op.drop_table('request_specs')
    op.drop_table('block_device_mappings')
    op.drop_table('instance_actions_events')
    op.drop_table('instance_actions')
    op.drop_table('instance_faults')
    op.drop_table('tags')
    op.drop_table('instance_system_metadata')
    op.drop_table('instance_metadata')
    op.drop_table('instances')
    op.drop_table('flavor_projects')
    op.drop_table('flavor_extra_specs')
    op.drop_table('flavors')
    op.drop_table('aggregate_metadata')
    op.drop_table('aggregate_hosts')
    op.drop_table('aggregates')
    op.drop_table('allocations')
    op.drop_table('compute_nodes')
    op.drop_table('services')
