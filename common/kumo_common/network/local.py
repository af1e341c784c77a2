"""The local network service's tables, used straight from the database (the default,
when there is no external Neutron)."""
from __future__ import annotations

import contextlib
import uuid as uuidlib

from kumo_common import objects
from kumo_common.db import networks as network_db
from kumo_common.db import ports as port_db
from kumo_common.db import session
from kumo_common.network import NetworkAPI, port_spec

# Security groups are not implemented beyond each project's "default" group, whose
# id is derived from the project's so that it is stable without a table; a port
# holds it or not (ports.security_groups).
SG_NAMESPACE = uuidlib.UUID('5b1e7d4c-3f0a-4f55-9a0e-6b1c2d3e4f50')
DEFAULT_GROUP = 'default'


def default_group_id(project_id: str) -> str:
    """The id of the project's "default" security group."""
    return str(uuidlib.uuid5(SG_NAMESPACE, project_id))


def port_security_groups(port) -> list[str]:
    """The ids of a port's security groups (its project's "default" unless changed)."""
    if port.security_groups is not None:
        return list(port.security_groups)
    return [default_group_id(port.project_id)] if port.project_id else []


def _spec(port, network_name: str) -> objects.PortSpec:
    return port_spec(port.id, port.network_id, network_name, port.mac_address,
                     [ip.ip_address for ip in port.fixed_ips])


def _network(network) -> dict:
    return {'id': network.id, 'name': network.name, 'project_id': network.project_id}


class LocalNetworkAPI(NetworkAPI):
    external = False

    def allocate_for_instance(self, ctxt, instance_uuid: str, project_id: str | None,
                              host: str | None, request: objects.NetworkRequest
                              ) -> objects.PortSpec:
        # The network's name is read in the transaction that gives the port, not in
        # one of its own.
        if request.port_id:
            with session.transaction() as s:
                port = port_db.bind(s, request.port_id, instance_uuid, host)
                name = network_db.get_network(s, port.network_id).name
            return _spec(port, name)
        names: list[str] = []

        @contextlib.contextmanager
        def transaction():
            # allocate_port's transaction (one per attempt): the port's network is
            # already in its session, so this reads nothing more.
            with session.transaction() as s:
                yield s
                names.append(network_db.get_network(s, request.network_id).name)

        port = network_db.allocate_port(
            transaction, request.network_id, instance_uuid, project_id,
            host=host, fixed_ips=[{'ip_address': request.fixed_ip}]
            if request.fixed_ip else None)
        return _spec(port, names[-1])

    def deallocate_for_instance(self, ctxt, instance_uuid: str) -> None:
        with session.transaction() as s:
            network_db.release_ports(s, instance_uuid)

    def unknown_security_groups(self, ctxt, names: list[str]) -> list[str]:
        known = {DEFAULT_GROUP, default_group_id(ctxt.project_id)}
        return [name for name in names if name not in known]

    def find_security_group(self, ctxt, name_or_id: str) -> dict | None:
        group_id = default_group_id(ctxt.project_id)
        if name_or_id in (group_id, DEFAULT_GROUP):
            return {'id': group_id, 'name': DEFAULT_GROUP}
        return None

    def port_security_groups(self, ctxt, instance_uuid: str) -> dict[str, list[str]]:
        with session.reader() as s:
            ports = network_db.ports_for_instances(s, [instance_uuid]).get(instance_uuid, [])
            return {port.id: port_security_groups(port) for port in ports}

    def set_port_security_groups(self, ctxt, port_id: str, group_ids: list[str]) -> None:
        with session.transaction() as s:
            port_db.get_visible(s, port_id, None, True).security_groups = list(group_ids)

    def list_networks(self, ctxt) -> list[dict]:
        with session.reader() as s:
            return [_network(n) for n in network_db.visible_networks(
                s, ctxt.project_id, ctxt.is_admin_role)]

    def show_network(self, ctxt, network_id: str) -> dict:
        with session.reader() as s:
            return _network(network_db.get_visible_network(
                s, network_id, ctxt.project_id, ctxt.is_admin_role))

    def ports_of(self, ctxt, instance_uuid: str) -> list[objects.PortSpec]:
        with session.reader() as s:
            ports = network_db.ports_for_instances(s, [instance_uuid]).get(instance_uuid, [])
            names = network_db.network_names(s, {p.network_id for p in ports})
            return [_spec(p, names.get(p.network_id, '')) for p in ports]
