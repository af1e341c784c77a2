"""Client side of the scheduler's RPC API.

Version history:
    1.0 - select_destinations
    1.1 - dry_run (what select_destinations would do, with reports, nothing claimed);
          RequestSpec 1.1 (force_hosts, force_nodes, requested_destination)
"""
import oslo_messaging as messaging
from oslo_config import cfg

from kumo_common import objects, rpc

CONF = cfg.CONF


class SchedulerAPI:
    VERSION = '1.1'

    def __init__(self):
        target = messaging.Target(topic=CONF.scheduler.topic, version=self.VERSION)
        self.client = rpc.get_client(target, version_cap=self.VERSION,
                                     timeout=CONF.scheduler.rpc_timeout)

    def select_destinations(self, ctxt, request_spec: objects.RequestSpec
                            ) -> list[objects.Selection]:
        """Pick and claim a host for every instance of the spec, or raise NoValidHost."""
        return self.client.prepare().call(ctxt, 'select_destinations',
                                          request_spec=request_spec)

    def dry_run(self, ctxt, request_spec: objects.RequestSpec) -> objects.DryRunResult:
        """The hosts select_destinations would pick and its reports; claims nothing."""
        return self.client.prepare(version='1.1').call(ctxt, 'dry_run',
                                                       request_spec=request_spec)
