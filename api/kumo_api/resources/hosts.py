"""The deprecated os-hosts resource (2.1 to 2.42; 404 from 2.43 as in Nova): the
hosts of the services, a compute host's resources, enabling or disabling a compute
host, and its maintenance mode and power actions, which no Kumo driver implements.

Nova's libvirt driver implements neither maintenance mode nor host power actions
(NotImplementedError, which the API answers with 501); Kumo's drivers do not either,
so the API answers the same without asking the agent.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify
from oslo_log import log as logging

from kumo_api import errors, policy, validation
from kumo_api.schemas import hosts as schemas
from kumo_api.views import services as service_views
from kumo_common.db import aggregates as aggregate_db
from kumo_common.db import hosts as host_db
from kumo_common.db import hypervisors as hypervisor_db
from kumo_common.db import models, session
from kumo_common.db import services as service_db

LOG = logging.getLogger(__name__)
bp = Blueprint('hosts', __name__)

_RULE = 'os_compute_api:os-hosts:%s'
_NOT_SUPPORTED = 'The requested functionality is not supported.'


def _authorize(action: str) -> None:
    policy.authorize(g.context, _RULE % action, {})


def _only_before_2_43() -> None:
    # Nova removed the API at 2.43: every route answers as an unknown resource.
    if g.want.at_least(2, 43):
        raise errors.NotFound('The resource could not be found.')


def _not_implemented() -> errors.APIError:
    return errors.APIError(_NOT_SUPPORTED, code=501)


def _topic(service: models.Service) -> str:
    """The service's topic, as Nova shows it ('compute', 'scheduler', 'conductor')."""
    return service.topic or service_views.wire_binary(service.binary).removeprefix('nova-')


@bp.get('/os-hosts')
def list_hosts():
    _only_before_2_43()
    params = validation.validate_query(schemas.INDEX_QUERY)
    _authorize('list')
    # As Nova: the last value of a repeated parameter counts, an empty one is no filter.
    zone = (params.get('zone') or [''])[-1]
    with session.reader() as s:
        # Nova lists the enabled services only (its API services are not among them).
        services = service_db.list_services(s, disabled=False)
        zones = aggregate_db.host_zones(
            s, {sv.host for sv in services if sv.binary == service_db.COMPUTE_BINARY})
        hosts = [{'host_name': sv.host, 'service': _topic(sv),
                  'zone': service_views.zone_of(sv, zones)} for sv in services]
    if zone:
        hosts = [host for host in hosts if host['zone'] == zone]
    return jsonify({'hosts': hosts})


@bp.get('/os-hosts/<host_name>')
def show_host(host_name: str):
    _only_before_2_43()
    _authorize('show')
    with session.reader() as s:
        host_db.compute_service(s, host_name)
        node = host_db.first_node(s, host_name)
        used = hypervisor_db.usage(s, [node])[node.id]
        servers = hypervisor_db.servers_by_host(s, {host_name})[host_name]
        rows = [_row(host_name, '(total)', node.vcpus, node.memory_mb, node.local_gb),
                _row(host_name, '(used_now)', used.vcpus_used, used.memory_mb_used,
                     used.local_gb_used),
                _servers_total(host_name, '(used_max)', servers)]
        rows += [_servers_total(host_name, project, own)
                 for project, own in _by_project(servers).items()]
    return jsonify({'host': [{'resource': row} for row in rows]})


def _row(host: str, project: str, cpu: int, memory_mb: int, disk_gb: int) -> dict:
    return {'host': host, 'project': project, 'cpu': cpu, 'memory_mb': memory_mb,
            'disk_gb': disk_gb}


def _servers_total(host: str, project: str, servers: list[models.Instance]) -> dict:
    """What the servers' flavors ask for, summed (disk: root and ephemeral)."""
    return _row(host, project, sum(i.vcpus for i in servers),
                sum(i.memory_mb for i in servers),
                sum(i.root_gb + i.ephemeral_gb for i in servers))


def _by_project(servers: list[models.Instance]) -> dict[str, list[models.Instance]]:
    """The servers grouped by project, projects in order of their first server."""
    projects: dict[str, list[models.Instance]] = {}
    for instance in servers:
        projects.setdefault(instance.project_id, []).append(instance)
    return projects


@bp.put('/os-hosts/<host_name>')
def update_host(host_name: str):
    _only_before_2_43()
    body = validation.json_body()
    validation.validate(body, schemas.UPDATE)
    _authorize('update')
    result = {'host': host_name}
    # As Nova: the status is applied first, then the maintenance mode is asked for
    # (and refused), so a body with both leaves the status changed.
    if 'status' in body:
        result['status'] = _set_enabled(host_name, _switched_on(body['status']))
    if 'maintenance_mode' in body:
        with session.reader() as s:
            host_db.compute_service(s, host_name)
        raise _not_implemented()
    return jsonify(result)


def _switched_on(value: str) -> bool:
    return value.strip().lower() == 'enable'


def _set_enabled(host_name: str, enabled: bool) -> str:
    """Whether the host's compute service takes new servers (the scheduler skips a
    disabled one); the answer is the state reached."""
    LOG.info('%s host %s.', 'Enabling' if enabled else 'Disabling', host_name)
    with session.transaction() as s:
        service = host_db.compute_service(s, host_name)
        service_db.update(s, service, {'disabled': not enabled, 'disabled_reason': None})
    return 'enabled' if enabled else 'disabled'


def _power_action(host_name: str, rule: str):
    _only_before_2_43()
    _authorize(rule)
    with session.reader() as s:
        host_db.compute_service(s, host_name)
    raise _not_implemented()


@bp.get('/os-hosts/<host_name>/startup')
def startup_host(host_name: str):
    return _power_action(host_name, 'start')


@bp.get('/os-hosts/<host_name>/shutdown')
def shutdown_host(host_name: str):
    return _power_action(host_name, 'shutdown')


@bp.get('/os-hosts/<host_name>/reboot')
def reboot_host(host_name: str):
    return _power_action(host_name, 'reboot')
