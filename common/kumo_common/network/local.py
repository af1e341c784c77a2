"""The local network service's tables, used straight from the database (the default,
when there is no external Neutron)."""
from __future__ import annotations

import contextlib

import sqlalchemy as sa

from kumo_common import objects
from kumo_common.db import networks as network_db
from kumo_common.db import ports as port_db
from kumo_common.db import security_groups as sg_db
from kumo_common.db import session
from kumo_common.network import NetworkAPI, port_spec, port_view

# A port holds its groups' ids (ports.security_groups), NULL meaning its project's
# "default" group, whose id derives from the project's (kumo_common.db.security_groups).
SG_NAMESPACE = sg_db.SG_NAMESPACE
DEFAULT_GROUP = sg_db.DEFAULT_GROUP
default_group_id = sg_db.default_group_id


def port_security_groups(port) -> list[str]:
    """The ids of a port's security groups (its project's "default" unless changed)."""
    if port.security_groups is not None:
        return list(port.security_groups)
    return [default_group_id(port.project_id)] if port.project_id else []


def _spec(port, network_name: str) -> objects.PortSpec:
    return port_spec(port.id, port.network_id, network_name, port.mac_address,
                     [ip.ip_address for ip in port.fixed_ips])


def _network(network) -> dict:
    return {'id': network.id, 'name': network.name, 'project_id': network.project_id,
            'shared': bool(network.shared), 'router:external': bool(network.router_external)}


def _port_view(port) -> dict:
    return port_view(port.id, port.network_id, port.mac_address, port.status,
                     port.device_id, port.project_id,
                     [(ip.subnet_id, ip.ip_address) for ip in port.fixed_ips])


class LocalNetworkAPI(NetworkAPI):
    external = False

    def allocate_for_instance(self, ctxt, instance_uuid: str, project_id: str | None,
                              host: str | None, request: objects.NetworkRequest,
                              security_groups: list[str] | None = None
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

        groups = self._group_ids(ctxt, security_groups)
        port = network_db.allocate_port(
            transaction, request.network_id, instance_uuid, project_id,
            host=host, fixed_ips=[{'ip_address': request.fixed_ip}]
            if request.fixed_ip else None,
            **({'security_groups': groups} if groups is not None else {}))
        return _spec(port, names[-1])

    def _group_ids(self, ctxt, names: list[str] | None) -> list[str] | None:
        """The ids of a create's groups (None: only the default, which a port's
        NULL means); names the project does not have were refused by the API."""
        if not names or names == [DEFAULT_GROUP]:
            return None
        found = (self.find_security_group(ctxt, name) for name in names)
        return list(dict.fromkeys(group['id'] for group in found if group))

    def deallocate_for_instance(self, ctxt, instance_uuid: str) -> None:
        with session.transaction() as s:
            network_db.release_ports(s, instance_uuid)

    def bind_ports(self, ctxt, instance_uuid: str, host: str | None) -> None:
        # (The conductor binds in its own transaction: kumo_conductor.ports.bind.)
        with session.transaction() as s:
            network_db.bind_ports(s, instance_uuid, host)

    def unknown_security_groups(self, ctxt, names: list[str]) -> list[str]:
        # Every project has its default (made on first use): no query for it, the
        # group nearly every create names.
        known = {DEFAULT_GROUP, default_group_id(ctxt.project_id)}
        return [name for name in names
                if name not in known and self.find_security_group(ctxt, name) is None]

    def find_security_group(self, ctxt, name_or_id: str) -> dict | None:
        # As Nova's lookup through Neutron: the id (any the caller sees), else the
        # name within the caller's project.
        sg_db.ensure_default(ctxt.project_id)
        with session.reader() as s:
            visible = sg_db.visible_to(ctxt.project_id, ctxt.is_admin_role)
            group = s.scalars(sa.select(sg_db.Group).where(
                sg_db.Group.id == name_or_id, visible)).first() or s.scalars(
                sa.select(sg_db.Group).where(sg_db.Group.name == name_or_id,
                                             sg_db.Group.project_id == ctxt.project_id)
                .order_by(sg_db.Group.created_at)).first()
            return {'id': group.id, 'name': group.name} if group is not None else None

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

    def show_port(self, ctxt, port_id: str) -> dict:
        with session.reader() as s:
            return _port_view(port_db.get_visible(s, port_id, ctxt.project_id,
                                                  ctxt.is_admin_role))

    def instance_ports(self, ctxt, instance_uuid: str) -> list[dict]:
        with session.reader() as s:
            ports = network_db.ports_for_instances(s, [instance_uuid]).get(instance_uuid, [])
            return [_port_view(p) for p in ports]

    def deallocate_port(self, ctxt, instance_uuid: str, port_id: str) -> None:
        with session.transaction() as s:
            network_db.release_port(s, instance_uuid, port_id)

    # --- security groups: kumo_common.db.security_groups, in Neutron's dicts --------
    def list_security_groups(self, ctxt, **filters) -> list[dict]:
        sg_db.ensure_default(ctxt.project_id)
        query = sa.select(sg_db.Group).where(
            sg_db.visible_to(ctxt.project_id, ctxt.is_admin_role))
        columns = {'id': sg_db.Group.id, 'name': sg_db.Group.name,
                   'project_id': sg_db.Group.project_id,
                   'tenant_id': sg_db.Group.project_id}
        for name, value in filters.items():
            values = value if isinstance(value, (list, tuple, set)) else [value]
            query = query.where(columns[name].in_(list(values)))
        with session.reader() as s:
            return [sg_db.group_dict(g) for g in s.scalars(query.order_by(sg_db.Group.id))]

    def show_security_group(self, ctxt, group_id: str) -> dict:
        sg_db.ensure_default(ctxt.project_id)
        with session.reader() as s:
            return sg_db.group_dict(sg_db.get(s, group_id, ctxt.project_id,
                                              ctxt.is_admin_role))

    def create_security_group(self, ctxt, name: str, description: str) -> dict:
        sg_db.ensure_default(ctxt.project_id)
        with session.transaction() as s:
            return sg_db.group_dict(sg_db.create(s, ctxt.project_id, name, description))

    def update_security_group(self, ctxt, group_id: str, values: dict) -> dict:
        with session.transaction() as s:
            group = sg_db.get(s, group_id, ctxt.project_id, ctxt.is_admin_role)
            sg_db.update(s, group, values)
            return sg_db.group_dict(group)

    def delete_security_group(self, ctxt, group_id: str) -> None:
        with session.transaction() as s:
            sg_db.delete(s, sg_db.get(s, group_id, ctxt.project_id, ctxt.is_admin_role),
                         ctxt.is_admin_role)

    def show_security_group_rule(self, ctxt, rule_id: str) -> dict:
        with session.reader() as s:
            return sg_db.rule_dict(sg_db.get_rule(s, rule_id, ctxt.project_id,
                                                  ctxt.is_admin_role))

    def create_security_group_rule(self, ctxt, rule: dict) -> dict:
        values = sg_db.check_rule(rule)
        with session.transaction() as s:
            group = sg_db.get(s, rule['security_group_id'], ctxt.project_id,
                              ctxt.is_admin_role)
            if values['remote_group_id']:
                sg_db.get(s, values['remote_group_id'], ctxt.project_id,
                          ctxt.is_admin_role)
            return sg_db.rule_dict(sg_db.add_rule(s, group, values, group.project_id),
                                   group.project_id)

    def delete_security_group_rule(self, ctxt, rule_id: str) -> None:
        with session.transaction() as s:
            s.delete(sg_db.get_rule(s, rule_id, ctxt.project_id, ctxt.is_admin_role))
