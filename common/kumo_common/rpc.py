"""RPC plumbing: the transport, the serializer that carries contexts and payloads, and
factories for clients and servers (oslo.messaging underneath, threading executor)."""
from __future__ import annotations

import oslo_messaging as messaging
from oslo_config import cfg

from kumo_common import context as kumo_context
from kumo_common import objects

CONF = cfg.CONF

_TRANSPORT: messaging.Transport | None = None


def init(conf: cfg.ConfigOpts = CONF) -> messaging.Transport:
    """Create this process's transport from [DEFAULT] transport_url, once."""
    global _TRANSPORT
    if _TRANSPORT is None:
        # Kumo's own exceptions cross RPC as themselves (e.g. NoValidHost), not as
        # a generic RemoteError.
        _TRANSPORT = messaging.get_rpc_transport(
            conf, allowed_remote_exmods=['kumo_common.exceptions'])
    return _TRANSPORT


def get_transport() -> messaging.Transport:
    if _TRANSPORT is None:
        return init()
    return _TRANSPORT


def cleanup() -> None:
    global _TRANSPORT
    if _TRANSPORT is not None:
        _TRANSPORT.cleanup()
        _TRANSPORT = None


class PayloadSerializer(messaging.Serializer):
    """Turns kumo_common.objects payloads into primitives and back, recursively."""

    def serialize_entity(self, ctxt, entity):
        if isinstance(entity, objects.Payload):
            return entity.to_primitive()
        if isinstance(entity, (list, tuple)):
            return [self.serialize_entity(ctxt, e) for e in entity]
        if isinstance(entity, dict):
            return {k: self.serialize_entity(ctxt, v) for k, v in entity.items()}
        return entity

    def deserialize_entity(self, ctxt, entity):
        if objects.is_payload_primitive(entity):
            return objects.Payload.from_primitive(entity)
        if isinstance(entity, list):
            return [self.deserialize_entity(ctxt, e) for e in entity]
        if isinstance(entity, dict):
            return {k: self.deserialize_entity(ctxt, v) for k, v in entity.items()}
        return entity

    def serialize_context(self, ctxt):
        return ctxt.to_dict()

    def deserialize_context(self, ctxt):
        # overwrite=True stores it thread-locally, so oslo.log puts the request id
        # into every log line of the handler.
        return kumo_context.RequestContext.from_dict(ctxt, overwrite=True)


def get_client(target: messaging.Target, version_cap: str | None = None,
               timeout: int | None = None) -> messaging.RPCClient:
    return messaging.get_rpc_client(get_transport(), target, version_cap=version_cap,
                                    serializer=PayloadSerializer(), timeout=timeout)


def get_server(target: messaging.Target, endpoints: list) -> messaging.MessageHandlingServer:
    return messaging.get_rpc_server(get_transport(), target, endpoints,
                                    executor='threading', serializer=PayloadSerializer())
