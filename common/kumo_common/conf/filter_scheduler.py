"""[filter_scheduler] options: which filters and weighers decide placement."""
from oslo_config import cfg

group = cfg.OptGroup('filter_scheduler', title='Filter scheduler options')

DEFAULT_FILTERS = [
    'ComputeFilter',
    'RamFilter',
    'CoreFilter',
    'DiskFilter',
]

opts = [
    cfg.ListOpt('enabled_filters', default=DEFAULT_FILTERS,
                help='Filters run, in order, for every request. Kumo enables the filter '
                     'of every hint it knows by default so hints work out of the box.'),
    cfg.IntOpt('host_subset_size', default=1, min=1,
               help='Pick the host at random among this many best-weighed hosts; '
                    '1 always takes the best one.'),
    cfg.FloatOpt('ram_weight_multiplier', default=1.0,
                 help='Positive values spread servers by free RAM; negative stack them.'),
    cfg.FloatOpt('cpu_weight_multiplier', default=1.0,
                 help='Positive values spread servers by free vCPUs; negative stack them.'),
    cfg.FloatOpt('disk_weight_multiplier', default=1.0,
                 help='Positive values spread servers by free disk; negative stack them.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
