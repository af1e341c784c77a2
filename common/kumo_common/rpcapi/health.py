"""Client side of the health RPC API that every Kumo RPC server answers (namespace
"health", beside the service's own API, as Nova's baserpc "ping").

Version history:
    1.0 - ping (an echo: proves the server consumes and answers RPC right now)
"""
from __future__ import annotations

import oslo_messaging as messaging

from kumo_common import rpc

NAMESPACE = 'health'


class HealthAPI:
    VERSION = '1.0'

    def __init__(self, topic: str):
        target = messaging.Target(topic=topic, namespace=NAMESPACE, version=self.VERSION)
        self.client = rpc.get_client(target, version_cap=self.VERSION)

    def ping(self, ctxt, server: str, timeout: float, arg: str | None = None) -> dict:
        """Echo through the RPC server of `server` on this topic; raises
        oslo_messaging.MessagingTimeout if it does not answer within `timeout`."""
        return self.client.prepare(server=server, timeout=timeout).call(
            ctxt, 'ping', arg=arg)


class HealthEndpoint:
    """The server side, added to every RPCService (kumo_common.service)."""

    target = messaging.Target(namespace=NAMESPACE, version='1.0')

    def __init__(self, topic: str, server: str):
        self.topic = topic
        self.server = server

    def ping(self, ctxt, arg: str | None = None) -> dict:
        return {'topic': self.topic, 'host': self.server, 'arg': arg}
