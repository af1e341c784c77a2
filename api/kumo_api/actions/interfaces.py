"""Attaching and detaching a server's interfaces (os-interface), as Nova's
compute API and manager do it with Neutron.

Attach: the lock and state checks (ACTIVE, PAUSED or STOPPED, no task), the instance
action `attach_interface`; the port is then made on the network (or the user's port
bound to the server) through kumo_common.network, the server's compute agent
hot-plugs it (compute RPC 1.9 attach_interface, a call), and the network info cache
is read again. A hot-plug that fails is rolled back: the port made for it is
deleted, the user's port unbound. Detach: the agent unplugs the port, then it is
deleted if it was made for the server and only unbound if the user made it (Nova's
preserve_on_delete), and the cache follows. Kumo's compute agents have no database:
the API, which holds the request, gives and frees the ports around the agent's call,
and records the compute events Nova's manager would (compute_attach_interface...).
"""
from __future__ import annotations

from oslo_log import log as logging

from kumo_api import errors, rpc_clients
from kumo_api.actions import lifecycle, network_info
from kumo_common import exceptions, network, objects, states
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session
from kumo_common.db import system_metadata as sysmeta

LOG = logging.getLogger(__name__)

# nova.compute.api attach_interface/detach_interface's check_instance_state.
_VM_STATES = (states.ACTIVE, states.PAUSED, states.STOPPED)


def _check(ctxt, instance: models.Instance, method: str) -> None:
    lifecycle.check_not_locked(ctxt, instance)
    if instance.vm_state not in _VM_STATES:
        raise lifecycle.invalid_state(method, instance, 'vm_state', instance.vm_state)
    if instance.task_state is not None:
        raise lifecycle.invalid_state(method, instance, 'task_state', instance.task_state)
    if not instance.host:
        raise errors.Conflict(f'Instance {instance.uuid} has no host; cannot {method} it.')


def _record(ctxt, instance: models.Instance, action: str | None, event: str,
            result: str | None, details: str | None = None) -> None:
    with session.transaction() as s:
        if action:
            instance_db.start_action(s, instance.uuid, action, ctxt)
        instance_db.record_event(s, instance.uuid, ctxt.request_id, event, result,
                                 host=instance.host, details=details)


# --- attach -----------------------------------------------------------------------------
def attach(ctxt, instance: models.Instance, network_id: str | None,
           port_id: str | None, fixed_ip: str | None, tag: str | None) -> dict:
    """Attach an interface; the port as the network service then shows it."""
    _check(ctxt, instance, 'attach_interface')
    api = network.api()
    _record(ctxt, instance, 'attach_interface', 'compute_attach_interface', None)
    try:
        request = _request(ctxt, api, instance, network_id, port_id, fixed_ip)
        port = _allocate(ctxt, api, instance, request)
    except (errors.APIError, exceptions.KumoException) as exc:
        _record(ctxt, instance, None, 'compute_attach_interface', 'Error', str(exc))
        raise
    try:
        with rpc_clients.agent_answer(instance.uuid, 'interface attachment'):
            rpc_clients.compute().attach_interface(ctxt, instance.host, instance.uuid,
                                                   port)
    except (exceptions.InterfaceAttachFailed, errors.APIError) as exc:
        LOG.warning('Attaching port %s to instance %s failed (%s); releasing the port',
                    port.id, instance.uuid, exc)
        _rollback(ctxt, api, instance, port)
        if isinstance(exc, errors.APIError):
            raise
        # Nova's answer for a driver's failure: a 500 with its own words.
        raise errors.APIError(exceptions.InterfaceAttachFailed(
            instance_uuid=instance.uuid).msg, code=500) from exc
    if tag is not None:
        with session.transaction() as s:
            sysmeta.set_interface_tag(s, instance.uuid, port.id, tag)
    network_info.refresh(ctxt, instance.uuid)
    _record(ctxt, instance, None, 'compute_attach_interface', 'Success')
    LOG.info('Port %s attached to instance %s', port.id, instance.uuid)
    return api.show_port(ctxt, port.id)


def _request(ctxt, api: network.NetworkAPI, instance: models.Instance,
             network_id: str | None, port_id: str | None, fixed_ip: str | None
             ) -> objects.NetworkRequest:
    """The NIC asked for, checked as Nova's neutron API checks it."""
    if port_id:
        try:
            port = api.show_port(ctxt, port_id)
        except exceptions.PortNotFound as exc:
            raise errors.NotFound(f'Port id {port_id} could not be found.') from exc
        if port['project_id'] != instance.project_id:
            raise errors.BadRequest(f'Port {port_id} not usable for instance '
                                    f'{instance.uuid}.')
        if port['device_id']:
            raise errors.Conflict(f'Port {port_id} is still in use.')
        return objects.NetworkRequest(network_id=port['network_id'], port_id=port_id)
    if network_id:
        try:
            api.show_network(ctxt, network_id)
        except exceptions.NetworkNotFound as exc:
            raise errors.NotFound(f'Network {network_id} could not be found.') from exc
        return objects.NetworkRequest(network_id=network_id, fixed_ip=fixed_ip)
    # Neither: the project's only network (its own unshared ones and the shared ones).
    nets = [n for n in api.list_networks(ctxt)
            if n.get('shared') or (n.get('project_id', n.get('tenant_id'))
                                   == instance.project_id)]
    if not nets:
        raise errors.BadRequest('No specific network was requested and none are '
                                f"available for project '{instance.project_id}'.")
    if len(nets) > 1:
        raise errors.BadRequest('Multiple possible networks found, use a Network ID to '
                                'be more specific.')
    return objects.NetworkRequest(network_id=nets[0]['id'])


def _allocate(ctxt, api: network.NetworkAPI, instance: models.Instance,
              request: objects.NetworkRequest) -> objects.PortSpec:
    """The port made or bound, Neutron's refusals in Nova's words."""
    try:
        return api.allocate_for_instance(ctxt, instance.uuid, instance.project_id,
                                         instance.host, request)
    except exceptions.PortInUse as exc:
        raise errors.Conflict(f'Port {request.port_id} is still in use.') from exc
    except exceptions.PortNotFound as exc:
        raise errors.NotFound(f'Port id {request.port_id} could not be found.') from exc
    except exceptions.NetworkNotFound as exc:
        raise errors.NotFound(f'Network {request.network_id} could not be found.') from exc
    except exceptions.IpAddressAlreadyAllocated as exc:
        raise errors.Conflict(f'Fixed IP {request.fixed_ip} is already in use.') from exc
    except exceptions.NoFixedIpsAvailable as exc:
        raise errors.BadRequest('No fixed IP addresses available for network: '
                                f'{request.network_id}') from exc
    except exceptions.Invalid as exc:
        # An address outside every subnet of the network (InvalidIpFor*, or an
        # external Neutron's 400).
        if request.fixed_ip:
            raise errors.BadRequest(f'Fixed IP {request.fixed_ip} is not a valid ip '
                                    f'address for network {request.network_id}.') from exc
        raise errors.BadRequest(exc.msg) from exc


def _rollback(ctxt, api: network.NetworkAPI, instance: models.Instance,
              port: objects.PortSpec) -> None:
    try:
        api.deallocate_port(ctxt, instance.uuid, port.id)
    except Exception:  # the attach failed either way; say what is left behind
        LOG.exception('Could not release port %s of instance %s after its failed '
                      'attach', port.id, instance.uuid)
    network_info.refresh(ctxt, instance.uuid)
    _record(ctxt, instance, None, 'compute_attach_interface', 'Error',
            f'Failed to attach network adapter device to {instance.uuid}')


# --- detach -----------------------------------------------------------------------------
def detach(ctxt, instance: models.Instance, port_id: str) -> None:
    """Detach the server's port (the agent unplugs it, then it is freed)."""
    _check(ctxt, instance, 'detach_interface')
    api = network.api()
    port = next((p for p in api.instance_ports(ctxt, instance.uuid)
                 if p['id'] == port_id), None)
    if port is None:
        # Nova's compute manager's words (it answers them to no one: its detach is a
        # cast); here the caller is told.
        raise errors.NotFound(f'Port {port_id} is not attached')
    _record(ctxt, instance, 'detach_interface', 'compute_detach_interface', None)
    spec = network.port_spec(port['id'], port['network_id'], '', port['mac_address'],
                             [ip['ip_address'] for ip in port['fixed_ips']])
    try:
        with rpc_clients.agent_answer(instance.uuid, 'interface detachment'):
            rpc_clients.compute().detach_interface(ctxt, instance.host, instance.uuid,
                                                   spec)
    except exceptions.InterfaceDetachFailed as exc:
        # (Its str() carries the agent's traceback: the message is made again here.)
        message = exceptions.InterfaceDetachFailed(instance_uuid=instance.uuid).msg
        _record(ctxt, instance, None, 'compute_detach_interface', 'Error', message)
        raise errors.Conflict(message) from exc
    except errors.APIError as exc:
        _record(ctxt, instance, None, 'compute_detach_interface', 'Error', exc.message)
        raise
    api.deallocate_port(ctxt, instance.uuid, port_id)
    with session.transaction() as s:
        sysmeta.set_interface_tag(s, instance.uuid, port_id, None)
    network_info.refresh(ctxt, instance.uuid)
    _record(ctxt, instance, None, 'compute_detach_interface', 'Success')
    LOG.info('Port %s detached from instance %s', port_id, instance.uuid)
