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
allocation at build time and the release when a server goes (kumo_conductor.ports).
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
                              host: str | None, request: objects.NetworkRequest
                              ) -> objects.PortSpec:
        """One NIC of a server being built: the port the user made (request.port_id),
        bound to the server and its host, or a new port on request.network_id (with
        request.fixed_ip if given). Raises PortNotFound, PortInUse, NetworkNotFound,
        IpAddressAlreadyAllocated, NoFixedIpsAvailable."""

    @abc.abstractmethod
    def deallocate_for_instance(self, ctxt, instance_uuid: str) -> None:
        """The server is gone (or its build failed): delete the ports made for it,
        unbind the ones the user made and passed in (Nova's preserve_on_delete)."""

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

    @abc.abstractmethod
    def list_networks(self, ctxt) -> list[dict]:
        """The networks the caller may see, as Neutron shows them to it (its
        project's, the shared and the external ones; an admin's: all), as dicts
        holding at least Neutron's `id` and `name`."""

    @abc.abstractmethod
    def show_network(self, ctxt, network_id: str) -> dict:
        """One network the caller may see (as list_networks' items); NetworkNotFound
        for one it may not."""

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
