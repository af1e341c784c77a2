"""Client side of the compute agent's RPC API (topic "compute", server = host).

Version history:
    1.0 - build_and_run_instance, terminate_instance
"""
import oslo_messaging as messaging

from kumo_common import objects, rpc

TOPIC = 'compute'


class ComputeAPI:
    VERSION = '1.0'

    def __init__(self):
        target = messaging.Target(topic=TOPIC, version=self.VERSION)
        self.client = rpc.get_client(target, version_cap=self.VERSION)

    def build_and_run_instance(self, ctxt, host: str, build: objects.InstanceBuild) -> None:
        self.client.prepare(server=host).cast(ctxt, 'build_and_run_instance', build=build)

    def terminate_instance(self, ctxt, host: str, instance_uuid: str) -> None:
        self.client.prepare(server=host).cast(ctxt, 'terminate_instance',
                                              instance_uuid=instance_uuid)
