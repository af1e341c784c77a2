"""[DEFAULT] options shared by every service (names follow Nova's)."""
import socket

from oslo_config import cfg

opts = [
    cfg.StrOpt('host', default=socket.gethostname(), sample_default='<current_hostname>',
               help='Name of this node. Compute agents listen on topic "compute" with '
                    'this server name, and the scheduler reports hosts by it.'),
    cfg.StrOpt('my_ip', default='127.0.0.1',
               help='IP address of this host, reported to the scheduler as the host IP '
                    'used by the SimpleCIDRAffinityFilter (cidr/build_near_host_ip hints).'),
    cfg.StrOpt('cell_name', default='cell1',
               help='Cell label of this compute node, used by the target_cell and '
                    'different_cell hints and the list views.'),
    cfg.StrOpt('default_availability_zone', default='nova',
               help='Availability zone of compute hosts that are not in an aggregate '
                    'with an availability zone. "nova" as Nova, so clients see the '
                    'zone they expect.'),
    cfg.StrOpt('internal_service_availability_zone', default='internal',
               help='Availability zone shown for services that are not compute '
                    'services (conductor, scheduler) in os-services and the detailed '
                    'availability zone list; hidden from the plain zone list. '
                    '"internal" as Nova.'),
    cfg.StrOpt('default_schedule_zone',
               help='Zone new servers are pinned to when the request names none. '
                    'Unset (the default) lets the scheduler pick any zone.'),
    cfg.IntOpt('report_interval', default=10, min=1,
               help='Seconds between heartbeats of a service. Must be well below '
                    'service_down_time.'),
    cfg.IntOpt('service_down_time', default=60, min=1,
               help='Seconds without a heartbeat after which a service counts as down '
                    'and the scheduler stops picking it.'),
    cfg.StrOpt('state_path', default='/var/lib/kumo',
               help='Top-level directory for the state of Kumo services: node identity '
                    'files, instance files, image cache.'),
    cfg.IntOpt('password_length', default=12, min=0,
               help='Length of generated admin passwords.'),
    cfg.IntOpt('reclaim_instance_interval', default=0, min=0,
               help='Seconds a deleted server stays soft-deleted before it is reclaimed. '
                    '0 (default) deletes at once, as Nova.'),
    cfg.BoolOpt('force_config_drive', default=False,
                help='Build a config drive for every server, whether asked or not.'),
    cfg.StrOpt('default_ephemeral_format',
               help='File system of an ephemeral disk whose mapping names none '
                    '(ext2, ext3, ext4, xfs, vfat, ntfs). Unset (default), as Nova: '
                    'by the image\'s os_type (linux: ext4, windows: ntfs), else vfat.'),
    cfg.IntOpt('max_local_block_devices', default=3,
               help='Most disks a server may have on its host (the image disk, '
                    'ephemeral and swap, from the flavor or block_device_mapping_v2). '
                    'A negative number means unlimited; 0 refuses every server that '
                    'would need a local disk. As Nova.'),
    cfg.FloatOpt('cpu_allocation_ratio', default=4.0, min=0.0,
                 help='Virtual CPUs that may be allocated per physical CPU of a host. '
                      'Nova\'s initial default, so existing configs carry over.'),
    cfg.FloatOpt('ram_allocation_ratio', default=1.0, min=0.0,
                 help='Memory that may be allocated per MiB of host memory.'),
    cfg.FloatOpt('disk_allocation_ratio', default=1.0, min=0.0,
                 help='Disk that may be allocated per GiB of host disk.'),
    cfg.IntOpt('reserved_host_memory_mb', default=512, min=0,
               help='Memory kept for the host itself, not offered to guests.'),
    cfg.IntOpt('reserved_host_disk_mb', default=0, min=0,
               help='Disk kept for the host itself, not offered to guests.'),
    cfg.IntOpt('reserved_host_cpus', default=0, min=0,
               help='Physical CPUs kept for the host itself, not offered to guests.'),
    # --- compute agents' guests (names and defaults as Nova's) ---
    cfg.StrOpt('instances_path', sample_default='$state_path/instances',
               help='Where the libvirt driver keeps guests\' files (one directory per '
                    'instance) and the image cache (_base/). Default: '
                    '$state_path/instances.'),
    cfg.IntOpt('sync_power_state_interval', default=600, min=-1,
               help='Seconds between two syncs of every guest\'s power state with the '
                    'database (libvirt events report changes at once; this catches the '
                    'rest). 0 or -1 disables the periodic sync (the agent still syncs '
                    'when it starts).'),
    cfg.StrOpt('running_deleted_instance_action', default='reap',
               choices=('noop', 'log', 'shutdown', 'reap'),
               help='What an agent does with a guest the database does not know or '
                    'knows as deleted: nothing, log it, power it off, or destroy it and '
                    'its files (reap).'),
    cfg.IntOpt('shutdown_timeout', default=60, min=0,
               help='Seconds a guest gets to power off cleanly (ACPI) on stop before '
                    'it is powered off hard. 0 powers off at once.'),
    # --- shelve (names and defaults as Nova's) ---
    cfg.IntOpt('shelved_offload_time', default=0, min=-1,
               help='Seconds a shelved server keeps its guest on its host before the '
                    'conductor offloads it (SHELVED_OFFLOADED: domain and files gone, '
                    'claim given back). 0 offloads as part of the shelve; -1 never '
                    'offloads (only shelveOffload does).'),
    cfg.IntOpt('shelved_poll_interval', default=3600, min=-1,
               help='Seconds between two runs of the conductor task that offloads '
                    'servers shelved for longer than shelved_offload_time. 0 or -1 '
                    'disables it.'),
    # --- resize (names and defaults as Nova's) ---
    cfg.BoolOpt('allow_resize_to_same_host', default=False,
                help='Let a resize pick the host the server is on (both flavors are '
                     'claimed there until the resize is confirmed or reverted). When '
                     'False, the server must move to another host.'),
    cfg.IntOpt('resize_confirm_window', default=0, min=0,
               help='Seconds after which a resize waiting in VERIFY_RESIZE is confirmed '
                    'automatically (by a periodic task of the conductor). 0 disables.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts)


def list_opts():
    return {'DEFAULT': opts}
