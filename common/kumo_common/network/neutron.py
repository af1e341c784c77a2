"""An external Neutron: servers' ports through the Neutron v2.0 API at [neutron]
endpoint (kumo_common.service_http: the user's token, a service token when [neutron]
auth_type is set).

Ports Kumo makes for a server carry a description saying so: on server delete those
are deleted and any other port bound to the server (one the user made and passed in)
is only unbound, as Nova's preserve_on_delete.

The API checks a create's `networks` here too (resolve_requests: the network is
one the token may use, the port is free, the fixed IP is inside a subnet and free).
The ports given to a server are kept in its network info cache
(kumo_common.db.network_cache), read by server views, the ip/ip6 filters and
rebuild/rescue. Ports changed in Neutron behind Kumo's back reach that cache when
Neutron says so (its network-changed and network-vif-deleted events to
/os-server-external-events: kumo_api.actions.external_events); the local service's port
deletes write it themselves.
"""
from __future__ import annotations

import ipaddress
import urllib.parse

from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import exceptions, objects, service_http
from kumo_common.db import security_groups as sg_db
from kumo_common.network import NetworkAPI, NetworkServiceUnavailable, port_spec, port_view

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

GROUP = 'neutron'
OWNER = 'compute:nova'
MADE_BY_KUMO = 'Made by Kumo for server {uuid}; deleted with it.'
# Neutron's binding:vif_type of a port it could not bind (to the host it names).
FAILED_VIF_TYPES = ('unbound', 'binding_failed')


def reset() -> None:
    service_http.reset(GROUP)


SUCCESS = (200, 201, 204)


def _body(resp) -> dict | None:
    return None if resp.status_code == 204 else resp.json()


class NeutronClient:
    """The Neutron v2.0 calls Kumo makes, against one endpoint."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint.rstrip('/')

    def send(self, ctxt, method: str, path: str, *, json=None, as_service: bool = False):
        """One call as it is answered (GETs retried; NetworkServiceUnavailable when
        Neutron cannot be reached). `as_service`: as the [neutron] service user."""
        try:
            return service_http.request(
                GROUP, ctxt, method, self.endpoint + path, json=json,
                retries=CONF.neutron.num_retries if method == 'GET' else 0,
                as_service=as_service)
        except service_http.Unreachable as exc:
            raise NetworkServiceUnavailable(reason=str(exc)) from exc

    def request(self, ctxt, method: str, path: str, *, json=None,
                not_found: exceptions.KumoException | None = None,
                as_service: bool = False) -> dict | None:
        url = self.endpoint + path
        resp = self.send(ctxt, method, path, json=json, as_service=as_service)
        if resp.status_code in SUCCESS:
            return _body(resp)
        kind, detail = _neutron_error(resp)
        if resp.status_code == 404 and not_found is not None:
            raise not_found
        if resp.status_code == 409:
            if kind == 'IpAddressAlreadyAllocated':
                raise exceptions.IpAddressAlreadyAllocated(detail)
            if kind == 'MacAddressInUse':
                raise exceptions.MacAddressInUse(detail)
            if kind in ('IpAddressGenerationFailure', 'NoFixedIpsAvailable'):
                raise exceptions.NoFixedIpsAvailable(detail)
            if kind == 'PortInUse':
                raise exceptions.PortInUse(detail)
            raise exceptions.Conflict(f'Network service: {detail}')
        if 400 <= resp.status_code < 500:
            raise exceptions.Invalid(f'Network service refused {method} {path}: {detail}')
        raise NetworkServiceUnavailable(reason=f'{method} {url}: {resp.status_code} '
                                               f'{detail}')

    def show_network(self, ctxt, network_id: str) -> dict:
        return self.request(ctxt, 'GET', f'/v2.0/networks/{_quote(network_id)}',
                            not_found=exceptions.NetworkNotFound(network_id=network_id)
                            )['network']

    def show_port(self, ctxt, port_id: str) -> dict:
        return self.request(ctxt, 'GET', f'/v2.0/ports/{_quote(port_id)}',
                            not_found=exceptions.PortNotFound(port_id=port_id))['port']

    def list_ports(self, ctxt, as_service: bool = False, **filters) -> list[dict]:
        query = urllib.parse.urlencode(filters)
        return self.request(ctxt, 'GET', f'/v2.0/ports?{query}',
                            as_service=as_service)['ports']

    def list_networks(self, ctxt, **filters) -> list[dict]:
        query = urllib.parse.urlencode(filters)
        return self.request(ctxt, 'GET', f'/v2.0/networks?{query}')['networks']

    def list_security_groups(self, ctxt, **filters) -> list[dict]:
        query = urllib.parse.urlencode(filters)
        return self.request(ctxt, 'GET', f'/v2.0/security-groups?{query}')[
            'security_groups']

    def list_subnets(self, ctxt, **filters) -> list[dict]:
        query = urllib.parse.urlencode(filters)
        return self.request(ctxt, 'GET', f'/v2.0/subnets?{query}')['subnets']

    def create_port(self, ctxt, body: dict) -> dict:
        network_id = body.get('network_id', '')
        return self.request(ctxt, 'POST', '/v2.0/ports', json={'port': body},
                            not_found=exceptions.NetworkNotFound(network_id=network_id)
                            )['port']

    def update_port(self, ctxt, port_id: str, body: dict, as_service: bool = False
                    ) -> dict:
        return self.request(ctxt, 'PUT', f'/v2.0/ports/{_quote(port_id)}',
                            json={'port': body},
                            not_found=exceptions.PortNotFound(port_id=port_id),
                            as_service=as_service)['port']

    def delete_port(self, ctxt, port_id: str) -> None:
        try:
            self.request(ctxt, 'DELETE', f'/v2.0/ports/{_quote(port_id)}',
                         not_found=exceptions.PortNotFound(port_id=port_id))
        except exceptions.PortNotFound:
            pass


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe='')


def _port_view(port: dict) -> dict:
    return port_view(port['id'], port['network_id'], port['mac_address'],
                     port.get('status', ''), port.get('device_id'),
                     port.get('project_id', port.get('tenant_id')),
                     [(ip.get('subnet_id'), ip['ip_address'])
                      for ip in port.get('fixed_ips', [])])


def _neutron_error(resp) -> tuple[str, str]:
    """Neutron's {"NeutronError": {"type", "message"}} (else the body as text)."""
    try:
        error = resp.json().get('NeutronError') or {}
        return error.get('type', ''), error.get('message', '') or str(resp.status_code)
    except ValueError:
        return '', service_http.error_text(resp)


class NeutronNetworkAPI(NetworkAPI):
    """kumo_common.network.NetworkAPI over an external Neutron v2.0 API."""
    external = True

    def __init__(self, endpoint: str):
        self.client = NeutronClient(endpoint)

    def _spec(self, ctxt, port: dict) -> objects.PortSpec:
        network = self.client.show_network(ctxt, port['network_id'])
        return port_spec(port['id'], port['network_id'], network.get('name', ''),
                         port['mac_address'],
                         [ip['ip_address'] for ip in port.get('fixed_ips', [])])

    def allocate_for_instance(self, ctxt, instance_uuid: str, project_id: str | None,
                              host: str | None, request: objects.NetworkRequest,
                              security_groups: list[str] | None = None
                              ) -> objects.PortSpec:
        # The port is the user's to make or give (their token); binding it to the host
        # is the service's (Neutron's policy: admins and services only), as Nova's
        # admin client does it.
        owner = {'device_id': instance_uuid, 'device_owner': OWNER}
        if request.port_id:
            port = self.client.show_port(ctxt, request.port_id)
            if port.get('device_id') not in ('', None, instance_uuid):
                raise exceptions.PortInUse(port_id=request.port_id)
            port = self.client.update_port(ctxt, request.port_id, owner)
        else:
            body = {'network_id': request.network_id,
                    'description': MADE_BY_KUMO.format(uuid=instance_uuid), **owner}
            if request.fixed_ip:
                body['fixed_ips'] = [{'ip_address': request.fixed_ip}]
            if security_groups and security_groups != ['default']:
                # Neutron takes ids; the API already refused names it does not know.
                found = (self.find_security_group(ctxt, name) for name in security_groups)
                body['security_groups'] = list(dict.fromkeys(
                    group['id'] for group in found if group))
            port = self.client.create_port(ctxt, body)
        if host:
            port = self.client.update_port(ctxt, port['id'], {'binding:host_id': host},
                                           as_service=True)
        LOG.info('Port %s (%s, %s) on network %s for instance %s', port['id'],
                 port['mac_address'], ', '.join(ip['ip_address'] for ip in
                                                port.get('fixed_ips', [])),
                 port['network_id'], instance_uuid)
        return self._spec(ctxt, port)

    def deallocate_for_instance(self, ctxt, instance_uuid: str) -> None:
        for port in self.client.list_ports(ctxt, device_id=instance_uuid):
            self._release(ctxt, instance_uuid, port)

    def _release(self, ctxt, instance_uuid: str, port: dict) -> None:
        if port.get('description') == MADE_BY_KUMO.format(uuid=instance_uuid):
            self.client.delete_port(ctxt, port['id'])
            return
        try:
            self.client.update_port(ctxt, port['id'], {
                'device_id': '', 'device_owner': '', 'binding:host_id': ''},
                as_service=True)
        except exceptions.PortNotFound:
            pass

    def bind_ports(self, ctxt, instance_uuid: str, host: str | None) -> None:
        # No host is sent as '' (as _release unbinds): Neutron's ML2 reads '' and
        # null alike (`attrs.get(HOST_ID) or ''`: unbound); Nova sends null.
        wanted = host or ''
        for port in self.client.list_ports(ctxt, as_service=True, device_id=instance_uuid):
            # As Nova's: a binding that failed is asked for again, even to its host.
            if (port.get('binding:host_id') or '') == wanted and not (
                    host and port.get('binding:vif_type') in FAILED_VIF_TYPES):
                continue
            try:
                self.client.update_port(ctxt, port['id'], {'binding:host_id': wanted},
                                        as_service=True)
            except exceptions.PortNotFound:  # deleted meanwhile: nothing to bind
                continue
            LOG.info('Port %s of instance %s bound to %s', port['id'], instance_uuid,
                     host or 'no host')

    def show_port(self, ctxt, port_id: str) -> dict:
        return _port_view(self.client.show_port(ctxt, port_id))

    def instance_ports(self, ctxt, instance_uuid: str) -> list[dict]:
        return [_port_view(port)
                for port in self.client.list_ports(ctxt, device_id=instance_uuid)]

    def deallocate_port(self, ctxt, instance_uuid: str, port_id: str) -> None:
        try:
            port = self.client.show_port(ctxt, port_id)
        except exceptions.PortNotFound:
            return
        if port.get('device_id') == instance_uuid:
            self._release(ctxt, instance_uuid, port)

    def unknown_security_groups(self, ctxt, names: list[str]) -> list[str]:
        # As Nova's (neutronclient's find by name or id, in the caller's project).
        unknown = []
        for name in names:
            if not (self.client.list_security_groups(ctxt, id=name)
                    or self.client.list_security_groups(ctxt, name=name,
                                                         project_id=ctxt.project_id)):
                unknown.append(name)
        return unknown

    def find_security_group(self, ctxt, name_or_id: str) -> dict | None:
        # As neutronclient's find_resourceid_by_name_or_id, which Nova uses: the id,
        # else the name within the caller's project.
        found = (self.client.list_security_groups(ctxt, id=name_or_id)
                 or self.client.list_security_groups(ctxt, name=name_or_id,
                                                     project_id=ctxt.project_id))
        return {'id': found[0]['id'], 'name': found[0].get('name', '')} if found else None

    def port_security_groups(self, ctxt, instance_uuid: str) -> dict[str, list[str]]:
        return {port['id']: list(port.get('security_groups') or [])
                for port in self.client.list_ports(ctxt, device_id=instance_uuid)}

    def set_port_security_groups(self, ctxt, port_id: str, group_ids: list[str]) -> None:
        self.client.update_port(ctxt, port_id, {'security_groups': list(group_ids)})

    # --- security groups and rules (Nova's proxies), Neutron's words kept ------------
    def _sg(self, ctxt, method: str, path: str, json=None, *, rule: bool = False):
        url = self.client.endpoint + path
        resp = self.client.send(ctxt, method, path, json=json)
        if resp.status_code in SUCCESS:
            return _body(resp)
        _, detail = _neutron_error(resp)
        if resp.status_code == 404:
            raise (sg_db.SecurityGroupRuleNotFound if rule else
                   sg_db.SecurityGroupNotFound)(detail)
        if resp.status_code == 409:
            raise exceptions.Conflict(detail)
        if resp.status_code in (400, 403):
            raise exceptions.Invalid(detail)
        raise NetworkServiceUnavailable(reason=f'{method} {url}: {resp.status_code} '
                                               f'{detail}')

    def list_security_groups(self, ctxt, **filters) -> list[dict]:
        query = urllib.parse.urlencode(filters, doseq=True)
        return self._sg(ctxt, 'GET', f'/v2.0/security-groups?{query}')['security_groups']

    def show_security_group(self, ctxt, group_id: str) -> dict:
        return self._sg(ctxt, 'GET', f'/v2.0/security-groups/{_quote(group_id)}'
                        )['security_group']

    def create_security_group(self, ctxt, name: str, description: str) -> dict:
        return self._sg(ctxt, 'POST', '/v2.0/security-groups', {'security_group': {
            'name': name, 'description': description}})['security_group']

    def update_security_group(self, ctxt, group_id: str, values: dict) -> dict:
        return self._sg(ctxt, 'PUT', f'/v2.0/security-groups/{_quote(group_id)}',
                        {'security_group': values})['security_group']

    def delete_security_group(self, ctxt, group_id: str) -> None:
        self._sg(ctxt, 'DELETE', f'/v2.0/security-groups/{_quote(group_id)}')

    def show_security_group_rule(self, ctxt, rule_id: str) -> dict:
        return self._sg(ctxt, 'GET', f'/v2.0/security-group-rules/{_quote(rule_id)}',
                        rule=True)['security_group_rule']

    def create_security_group_rule(self, ctxt, rule: dict) -> dict:
        return self._sg(ctxt, 'POST', '/v2.0/security-group-rules',
                        {'security_group_rule': rule})['security_group_rule']

    def delete_security_group_rule(self, ctxt, rule_id: str) -> None:
        self._sg(ctxt, 'DELETE', f'/v2.0/security-group-rules/{_quote(rule_id)}',
                 rule=True)

    def list_networks(self, ctxt) -> list[dict]:
        return self.client.list_networks(ctxt)

    def show_network(self, ctxt, network_id: str) -> dict:
        return self.client.show_network(ctxt, network_id)

    def ports_of(self, ctxt, instance_uuid: str) -> list[objects.PortSpec]:
        ports = self.client.list_ports(ctxt, device_id=instance_uuid)
        return [self._spec(ctxt, port) for port in ports]

    # --- the API's checks of a create's `networks` ----------------------------------
    def resolve_requests(self, ctxt, networks) -> list[objects.NetworkRequest]:
        """The NICs of a create (`networks` as the API parsed it: None, 'auto',
        'none' or a list of {uuid, port, fixed_ip, tag}), checked through Neutron with
        the caller's token, in Nova's words: BadRequest (400) for a network or port
        the caller cannot see or an address outside the network, Conflict (409) for
        a port or address in use."""
        if networks == 'none':
            return []
        if networks is None or networks == 'auto' or networks == []:
            default = self._default_network(ctxt)
            return [objects.NetworkRequest(network_id=default['id'])] if default else []
        result = []
        for item in networks:
            if item.get('port'):
                result.append(self._requested_port(ctxt, item['port'], item.get('tag')))
                continue
            if 'uuid' not in item:
                raise exceptions.Invalid("Bad network format: missing 'uuid'")
            try:
                network = self.client.show_network(ctxt, item['uuid'])
            except exceptions.NetworkNotFound as exc:
                raise exceptions.Invalid(f"Network {item['uuid']} could not be found."
                                         ) from exc
            fixed_ip = item.get('fixed_ip')
            if fixed_ip:
                fixed_ip = self._free_fixed_ip(ctxt, network['id'], fixed_ip)
            result.append(objects.NetworkRequest(network_id=network['id'],
                                                 fixed_ip=fixed_ip, tag=item.get('tag')))
        return result

    def _default_network(self, ctxt) -> dict | None:
        """`networks: auto`: the project's own network (its default one first), else a
        shared one; never an external network."""
        visible = [n for n in self.client.list_networks(ctxt)
                   if not n.get('router:external')]
        project_id = getattr(ctxt, 'project_id', None)
        own = [n for n in visible if n.get('project_id', n.get('tenant_id')) == project_id]
        shared = [n for n in visible if n.get('shared')]
        for group in (own, shared):
            if group:
                return next((n for n in group if n.get('is_default')), group[0])
        return None

    def _requested_port(self, ctxt, port_id: str, tag: str | None
                        ) -> objects.NetworkRequest:
        try:
            port = self.client.show_port(ctxt, port_id)
        except exceptions.PortNotFound as exc:
            raise exceptions.Invalid(f'Port {port_id} could not be found.') from exc
        if port.get('device_id'):
            raise exceptions.Conflict(f'Port {port_id} is still in use.')
        return objects.NetworkRequest(network_id=port['network_id'], port_id=port['id'],
                                      tag=tag)

    def _free_fixed_ip(self, ctxt, network_id: str, fixed_ip: str) -> str:
        try:
            address = ipaddress.ip_address(fixed_ip)
        except ValueError as exc:
            raise exceptions.Invalid(f'Invalid fixed IP address ({fixed_ip})') from exc
        subnet = next((sn for sn in self.client.list_subnets(ctxt, network_id=network_id)
                       if address in ipaddress.ip_network(sn['cidr'])), None)
        if subnet is None:
            raise exceptions.Invalid(f'Fixed IP {fixed_ip} is not a valid ip address for '
                                     f'network {network_id}.')
        holders = self.client.list_ports(ctxt, network_id=network_id,
                                         fixed_ips=f'ip_address={address}')
        if holders or str(address) == subnet.get('gateway_ip'):
            device = holders[0].get('device_id') if holders else '(the gateway)'
            raise exceptions.Conflict(f'Fixed IP address {address} is already in use on '
                                      f'instance {device}.')
        return str(address)
