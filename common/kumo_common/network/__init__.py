"""How Kumo's control plane gives servers their ports: one interface, two backends.

* The local network service (kumo_common.network.local): the networks, subnets and
  ports tables Kumo's own network service (a Neutron v2.0 subset) writes, used
  straight from the database. The default: [neutron] endpoint unset, or naming Kumo's
  own network service ([network_service] listen:listen_port).
* An external Neutron (kumo_common.network.neutron): the Neutron v2.0 API at
  [neutron] endpoint, with the caller's token, as Nova's neutron client: a port is
  created on the requested network (POST /v2.0/ports, device_id the server), a port
  the user made is bound (PUT), the MAC and fixed IPs are read from Neutron's answer,
  and on server delete the ports Kumo made are deleted and the user's unbound.

Wired: the API's checks of a create's `networks` (external only), the network
proxies' reads (kumo_api.resources.network_proxies), the conductor's
allocation at build time, the binding that follows a server to another host (resize,
migration, evacuation, shelve offload and unshelve) and the release when a server goes
(kumo_conductor.ports).
What the conductor gave a server is kept in its network info cache
(kumo_common.db.network_cache), which the server views' `addresses`, the ip/ip6 list
filters and the rebuild/rescue/unshelve/resize payloads read, with either backend.
"""
from __future__ import annotations

import abc

from oslo_config import cfg

from kumo_common import exceptions, objects
from kumo_common.image import names_local_service

CONF = cfg.CONF


class NetworkServiceUnavailable(exceptions.KumoException):
    """The network API did not answer, or answered with an error Kumo cannot act on."""
    code = 503
    message = 'The network service is unavailable: %(reason)s'


def external() -> bool:
    """Whether ports live in another service's Neutron ([neutron] endpoint set, and
    not to Kumo's own network service)."""
    endpoint = CONF.neutron.endpoint
    return bool(endpoint) and not names_local_service(
        endpoint, CONF.network_service.listen, CONF.network_service.listen_port)


class NetworkAPI(abc.ABC):
    """What Kumo's control plane asks of a network service for a server."""

    external: bool = False

    @abc.abstractmethod
    def allocate_for_instance(self, ctxt, instance_uuid: str, project_id: str | None,
                              host: str | None, request: objects.NetworkRequest,
                              security_groups: list[str] | None = None
                              ) -> objects.PortSpec:
        """One NIC of a server being built: the port the user made (request.port_id),
        bound to the server and its host, or a new port on request.network_id (with
        request.fixed_ip if given). A new port gets the `security_groups` (names or
        ids, as a server create names them; None or ["default"]: the project's
        default, as Neutron gives it); the user's port keeps its own. Raises
        PortNotFound, PortInUse, NetworkNotFound, IpAddressAlreadyAllocated,
        NoFixedIpsAvailable."""

    @abc.abstractmethod
    def deallocate_for_instance(self, ctxt, instance_uuid: str) -> None:
        """The server is gone (or its build failed): delete the ports made for it,
        unbind the ones the user made and passed in (Nova's preserve_on_delete)."""

    @abc.abstractmethod
    def bind_ports(self, ctxt, instance_uuid: str, host: str | None) -> None:
        """The server moved: its ports are bound to `host` (None: to no host, as a
        shelve offload leaves them), as Nova's setup_instance_network_on_host /
        unbind_ports. Ports already bound there are left alone."""

    @abc.abstractmethod
    def ports_of(self, ctxt, instance_uuid: str) -> list[objects.PortSpec]:
        """The server's ports, oldest first."""

    @abc.abstractmethod
    def unknown_security_groups(self, ctxt, names: list[str]) -> list[str]:
        """Those of the security groups a create names (by name or id) that the
        caller's project does not have."""

    @abc.abstractmethod
    def find_security_group(self, ctxt, name_or_id: str) -> dict | None:
        """The caller's project's security group with this id or name, as
        {'id', 'name'}; None if it has none (Nova's lookup, by id first)."""

    @abc.abstractmethod
    def port_security_groups(self, ctxt, instance_uuid: str) -> dict[str, list[str]]:
        """The ids of the security groups of each of the server's ports, by port id."""

    @abc.abstractmethod
    def set_port_security_groups(self, ctxt, port_id: str, group_ids: list[str]) -> None:
        """The port's security groups are now these (ids)."""

    # Security groups and rules, as Neutron v2.0 shows them (dicts with its keys);
    # SecurityGroupNotFound / SecurityGroupRuleNotFound (404), Invalid (400) and
    # Conflict (409) carry the network service's message (kumo_common.db.
    # security_groups).
    @abc.abstractmethod
    def list_security_groups(self, ctxt, **filters) -> list[dict]:
        """The groups the caller may see, under Neutron's filters (`id`,
        `project_id`, `name`; a list value is an OR)."""

    @abc.abstractmethod
    def show_security_group(self, ctxt, group_id: str) -> dict:
        """One group the caller may see, with its rules."""

    @abc.abstractmethod
    def create_security_group(self, ctxt, name: str, description: str) -> dict:
        """A new group of the caller's project."""

    @abc.abstractmethod
    def update_security_group(self, ctxt, group_id: str, values: dict) -> dict:
        """The group's name and/or description changed."""

    @abc.abstractmethod
    def delete_security_group(self, ctxt, group_id: str) -> None:
        """The group deleted (Conflict while a port holds it)."""

    @abc.abstractmethod
    def show_security_group_rule(self, ctxt, rule_id: str) -> dict:
        """One rule the caller may see."""

    @abc.abstractmethod
    def create_security_group_rule(self, ctxt, rule: dict) -> dict:
        """A new rule (Neutron's attributes: security_group_id, direction, ethertype,
        protocol, port_range_min/max, remote_ip_prefix or remote_group_id)."""

    @abc.abstractmethod
    def delete_security_group_rule(self, ctxt, rule_id: str) -> None:
        """The rule deleted."""

    @abc.abstractmethod
    def list_networks(self, ctxt) -> list[dict]:
        """The networks the caller may see, as Neutron shows them to it (its
        project's, the shared and the external ones; an admin's: all), as dicts
        holding at least Neutron's `id` and `name`."""

    @abc.abstractmethod
    def show_network(self, ctxt, network_id: str) -> dict:
        """One network the caller may see (as list_networks' items); NetworkNotFound
        for one it may not."""

    # --- one interface at a time (os-interface: kumo_api.actions.interfaces) ----------
    @abc.abstractmethod
    def show_port(self, ctxt, port_id: str) -> dict:
        """A port the caller may see, in Neutron's shape as os-interface reads it
        (see port_view); PortNotFound for one it may not."""

    @abc.abstractmethod
    def instance_ports(self, ctxt, instance_uuid: str) -> list[dict]:
        """The server's ports (device_id), each as show_port gives it."""

    @abc.abstractmethod
    def deallocate_port(self, ctxt, instance_uuid: str, port_id: str) -> None:
        """One port leaves the server: deleted if it was made for the server, only
        unbound if the user made it (as deallocate_for_instance, for one port).
        Nothing happens to a port the server does not hold."""

    def resolve_requests(self, ctxt, networks) -> list[objects.NetworkRequest]:
        """A create's `networks` checked before the server is recorded (an external
        API's; the local service's checks run in the create's own transaction, in
        kumo_api.compute_api, where a requested port is reserved atomically)."""
        raise NotImplementedError


def api() -> NetworkAPI:
    if external():
        from kumo_common.network import neutron
        return neutron.NeutronNetworkAPI(CONF.neutron.endpoint)
    from kumo_common.network import local
    return local.LocalNetworkAPI()


def port_spec(port_id: str, network_id: str, network_name: str, mac_address: str,
              addresses: list[str]) -> objects.PortSpec:
    return objects.PortSpec(
        id=port_id, network_id=network_id, network_name=network_name,
        mac_address=mac_address,
        fixed_ips=[{'ip_address': a, 'version': 6 if ':' in a else 4} for a in addresses])


def port_view(port_id: str, network_id: str, mac_address: str, status: str,
              device_id: str | None, project_id: str | None,
              fixed_ips: list[tuple[str, str]]) -> dict:
    """A port as os-interface reads it (Neutron's keys): fixed_ips as
    [{subnet_id, ip_address}]."""
    return {'id': port_id, 'network_id': network_id, 'mac_address': mac_address,
            'status': status, 'device_id': device_id or '', 'project_id': project_id,
            'fixed_ips': [{'subnet_id': subnet, 'ip_address': address}
                          for subnet, address in fixed_ips]}
