"""Client side of the compute agent's RPC API (topic "compute", server = host).

Version history:
    1.0 - build_and_run_instance, terminate_instance
    1.1 - perform_action (a kumo_common.lifecycle action on a built guest)
"""
import oslo_messaging as messaging

from kumo_common import objects, rpc

TOPIC = 'compute'


class ComputeAPI:
    VERSION = '1.1'

    def __init__(self):
        target = messaging.Target(topic=TOPIC, version=self.VERSION)
        self.client = rpc.get_client(target, version_cap=self.VERSION)

    def build_and_run_instance(self, ctxt, host: str, build: objects.InstanceBuild) -> None:
        self.client.prepare(server=host).cast(ctxt, 'build_and_run_instance', build=build)

    def terminate_instance(self, ctxt, host: str, instance_uuid: str) -> None:
        self.client.prepare(server=host).cast(ctxt, 'terminate_instance',
                                              instance_uuid=instance_uuid)

    def perform_action(self, ctxt, host: str, instance_uuid: str, action: str) -> None:
        """Run a lifecycle action (kumo_common.lifecycle.ACTIONS) on the guest."""
        self.client.prepare(server=host, version='1.1').cast(
            ctxt, 'perform_action', instance_uuid=instance_uuid, action=action)
