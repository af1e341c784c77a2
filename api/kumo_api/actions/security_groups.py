"""addSecurityGroup and removeSecurityGroup: a server's security groups changed as
Nova (with Neutron) changes them.

The group is looked up in the caller's project by id, then by name; it is added to,
or taken from, each of the server's ports in the network service (Kumo's own: its
ports' groups; an external Neutron: a port update with the caller's token), and the
server's own list of group names, which its views show, follows. Kumo's own network
service has only each project's "default" group, so that is the one group there is
to take away and give back.
"""
from __future__ import annotations

from flask import g

from kumo_api import errors, policy
from kumo_common import network
from kumo_common.db import models, session
from kumo_common.db import system_metadata as sysmeta


def _group(name: str) -> dict:
    if not name.strip():
        raise errors.BadRequest('Security group name cannot be empty')
    group = network.api().find_security_group(g.context, name)
    if group is None:
        raise errors.NotFound(f'Security group {name} is not found for project '
                              f'{g.context.project_id}')
    return group


def _ports(instance: models.Instance) -> dict[str, list[str]]:
    ports = network.api().port_security_groups(g.context, instance.uuid)
    if not ports:
        raise errors.NotFound(f'instance_id {instance.uuid} could not be found as device '
                              'id on any ports')
    return ports


def _names(instance: models.Instance, change) -> None:
    with session.transaction() as s:
        names = sysmeta.security_groups(s, instance.uuid)
        sysmeta.set_security_groups(s, instance.uuid, change(names))


def add(instance: models.Instance, payload: dict) -> None:
    policy.authorize(g.context, 'os_compute_api:os-security-groups:add',
                     {'project_id': instance.project_id})
    group = _group(payload['name'])
    api = network.api()
    for port_id, groups in _ports(instance).items():
        if group['id'] not in groups:
            api.set_port_security_groups(g.context, port_id, [*groups, group['id']])
    _names(instance, lambda names: names if group['name'] in names
           else [*names, group['name']])


def remove(instance: models.Instance, payload: dict) -> None:
    policy.authorize(g.context, 'os_compute_api:os-security-groups:remove',
                     {'project_id': instance.project_id})
    name = payload['name']
    group = _group(name)
    api = network.api()
    found = False
    for port_id, groups in _ports(instance).items():
        if group['id'] in groups:
            api.set_port_security_groups(g.context, port_id,
                                         [i for i in groups if i != group['id']])
            found = True
    if not found:
        raise errors.NotFound(f'Security group {name} not associated with the instance '
                              f'{instance.uuid}')
    _names(instance, lambda names: [n for n in names if n != group['name']])
