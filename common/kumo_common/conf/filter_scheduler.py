"""[filter_scheduler] options: which filters and weighers decide placement.

Names follow Nova's, so operators' configs carry over. Unlike Nova, the default
`enabled_filters` includes the filter of every scheduler hint, so hints work out of
the box (and a hint whose filter is disabled is refused at create, not ignored).
"""
from oslo_config import cfg

group = cfg.OptGroup('filter_scheduler', title='Filter scheduler options')

DEFAULT_FILTERS = [
    'ComputeFilter',
    'AvailabilityZoneFilter',
    'RamFilter',
    'CoreFilter',
    'DiskFilter',
    'ImagePropertiesFilter',
    'AggregateInstanceExtraSpecsFilter',
    'NumInstancesFilter',
    'SameHostFilter',
    'DifferentHostFilter',
    'SimpleCIDRAffinityFilter',
    'ServerGroupAffinityFilter',
    'ServerGroupAntiAffinityFilter',
    'JsonFilter',
    'TargetCellFilter',
    'DifferentCellFilter',
]

# Nova's spelling of "every weigher" is accepted as is.
ALL_WEIGHERS = 'nova.scheduler.weights.all_weighers'

opts = [
    cfg.ListOpt('enabled_filters', default=DEFAULT_FILTERS,
                help='Filters run, in order, for every request. Kumo enables the filter '
                     'of every hint it knows by default so hints work out of the box; a '
                     'create whose hint needs a filter missing here is refused (400).'),
    cfg.ListOpt('weight_classes', default=[ALL_WEIGHERS],
                help='Weighers that rank the hosts passing the filters, by class name '
                     '(RAMWeigher, CPUWeigher, DiskWeigher, NumInstancesWeigher, '
                     'ServerGroupSoftAffinityWeigher, ServerGroupSoftAntiAffinityWeigher, '
                     'BuildFailureWeigher). Nova\'s "nova.scheduler.weights.all_weighers" '
                     '(the default) means all of them; Nova module paths are accepted '
                     'too (only the class name counts).'),
    cfg.IntOpt('host_subset_size', default=1, min=1,
               help='Pick the host at random among this many best-weighed hosts; '
                    '1 always takes the best one.'),
    cfg.IntOpt('max_instances_per_host', default=50, min=1,
               help='NumInstancesFilter: hosts with this many instances take no more.'),
    cfg.FloatOpt('ram_weight_multiplier', default=1.0,
                 help='Positive values spread servers by free RAM; negative stack them.'),
    cfg.FloatOpt('cpu_weight_multiplier', default=1.0,
                 help='Positive values spread servers by free vCPUs; negative stack them.'),
    cfg.FloatOpt('disk_weight_multiplier', default=1.0,
                 help='Positive values spread servers by free disk; negative stack them.'),
    cfg.FloatOpt('num_instances_weight_multiplier', default=0.0,
                 help='Positive values prefer hosts with more instances (stack), '
                      'negative with fewer (spread). 0 (Nova\'s default) ignores it.'),
    cfg.FloatOpt('soft_affinity_weight_multiplier', default=1.0, min=0.0,
                 help='Weight of hosts with more members of a soft-affinity group.'),
    cfg.FloatOpt('soft_anti_affinity_weight_multiplier', default=1.0, min=0.0,
                 help='Weight of hosts with fewer members of a soft-anti-affinity group.'),
    cfg.FloatOpt('build_failure_weight_multiplier', default=1000000.0,
                 help='How strongly hosts with recent failed builds are avoided. Nova\'s '
                      'default makes one failure outweigh every other weigher.'),
    cfg.IntOpt('report_max_removed_hosts', default=1000, min=0,
               help='Scheduling reports list each host a filter removed, with its reason, '
                    'up to this many per filter; counts per reason code are always '
                    'complete. Bounds the size of a report in very large clouds.'),
    cfg.IntOpt('report_max_weighed_hosts', default=100, min=0,
               help='Scheduling reports list the weights of this many best hosts.'),
    cfg.IntOpt('host_state_refresh_margin', default=5, min=0,
               help='Seconds of overlap when the scheduler re-reads changed compute '
                    'nodes and services (by updated_at), covering transactions that '
                    'committed late and small clock differences between services.'),
    cfg.IntOpt('host_state_full_reload_interval', default=300, min=0,
               help='Seconds between full reloads of host states (a backstop for '
                    'changes not visible by updated_at); 0 never reloads in full.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
