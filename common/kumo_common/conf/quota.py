"""[quota] options: per-project default limits (Nova's names and defaults)."""
from oslo_config import cfg

group = cfg.OptGroup('quota', title='Quota options')

opts = [
    cfg.IntOpt('instances', default=10, min=-1, help='Servers per project; -1 unlimited.'),
    cfg.IntOpt('cores', default=20, min=-1, help='vCPUs per project; -1 unlimited.'),
    cfg.IntOpt('ram', default=50 * 1024, min=-1, help='MiB of RAM per project; -1 unlimited.'),
    cfg.IntOpt('metadata_items', default=128, min=-1,
               help='Metadata items per server; -1 unlimited.'),
    cfg.IntOpt('injected_files', default=5, min=-1,
               help='Personality files per server; -1 unlimited.'),
    cfg.IntOpt('injected_file_content_bytes', default=10 * 1024, min=-1,
               help='Bytes per personality file; -1 unlimited.'),
    cfg.IntOpt('injected_file_path_length', default=255, min=-1,
               help='Characters in a personality file path.'),
    cfg.IntOpt('key_pairs', default=100, min=-1, help='Keypairs per user; -1 unlimited.'),
    cfg.IntOpt('server_groups', default=10, min=-1,
               help='Server groups per project; -1 unlimited.'),
    cfg.IntOpt('server_group_members', default=10, min=-1,
               help='Servers per server group; -1 unlimited.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
