"""Security groups through the compute API, as Nova (with Neutron) serves them:
the deprecated proxies GET/POST /os-security-groups, GET/PUT/DELETE
/os-security-groups/{id}, POST /os-security-group-rules and DELETE
/os-security-group-rules/{id} (up to 2.35; 404 from 2.36), and
GET /servers/{server_id}/os-security-groups (every microversion).

Everything goes through kumo_common.network's NetworkAPI (Kumo's own network service
or an external Neutron, with the caller's token), so a group made here is Neutron's
and the other way round. Nova's proxy only makes ingress rules and shows only those;
its checks of a rule (ports, protocol, CIDR) run here, Neutron's after them. The
errors are Nova's: the network service's message with Nova's status (a group in use
or the default group: 400 on delete; a duplicate or refused rule: 403 on create).
"""
from __future__ import annotations

import ipaddress
import urllib.parse
import uuid as uuidlib

from flask import Blueprint, g, jsonify, request
from oslo_config import cfg

from kumo_api import errors, policy, validation
from kumo_api.resources.servers import get_instance
from kumo_api.schemas import security_groups as schemas
from kumo_api.views import security_groups as views
from kumo_common import exceptions, network
from kumo_common.db import session

CONF = cfg.CONF
bp = Blueprint('security_groups', __name__)
_RULE = 'os_compute_api:os-security-groups:%s'


def _check(action: str) -> None:
    # Nova removed the proxies at 2.36 (the version is checked before the policy).
    if g.want.at_least(2, 36):
        raise errors.NotFound('The resource could not be found.')
    policy.authorize(g.context, _RULE % action, {'project_id': g.context.project_id})


def _valid_id(group_id: str) -> str:
    try:
        uuidlib.UUID(group_id)
    except ValueError as exc:
        raise errors.BadRequest('Security group id should be uuid') from exc
    return group_id


def _get(group_id: str) -> dict:
    try:
        return views.nova_group(network.api().show_security_group(g.context, group_id))
    except exceptions.NotFound as exc:
        raise errors.NotFound(str(exc)) from exc


class _Remotes:
    """The {'name', 'tenant_id'} of rules' remote groups, each asked for once (the
    groups being shown are known already)."""

    def __init__(self, groups: list[dict]):
        self.known: dict[str, dict | None] = {
            group['id']: {'name': group['name'], 'tenant_id': group['project_id']}
            for group in groups}

    def __call__(self, group_id: str) -> dict | None:
        if group_id not in self.known:
            try:
                found = network.api().show_security_group(g.context, group_id)
                self.known[group_id] = {'name': found.get('name'),
                                        'tenant_id': found.get('project_id')}
            except exceptions.NotFound:
                self.known[group_id] = None
        return self.known[group_id]


def _view(group: dict) -> dict:
    return views.group_view(group, _Remotes([group]))


@bp.get('/os-security-groups')
def list_security_groups():
    _check('get')
    validation.validate_query(schemas.INDEX_QUERY)
    filters = {}
    # Neutron has no "all tenants": without a project filter an admin sees them all.
    if not (g.context.is_admin_role and 'all_tenants' in request.args):
        filters['tenant_id'] = g.context.project_id
    groups = [views.nova_group(group) for group in
              network.api().list_security_groups(g.context, **filters)]
    groups = _limited(groups)
    remotes = _Remotes(groups)
    return jsonify({'security_groups': views.sorted_groups(
        [views.group_view(group, remotes) for group in groups])})


def _limited(items: list) -> list:
    """Nova's offset/limit over the whole list (limit capped by [api] max_limit)."""
    offset = int(request.args.get('offset') or 0)
    limit = int(request.args.get('limit') or 0) or CONF.api.max_limit
    return items[offset:offset + min(limit, CONF.api.max_limit)]


@bp.get('/os-security-groups/<security_group_id>')
def show_security_group(security_group_id: str):
    _check('show')
    return jsonify({'security_group': _view(_get(_valid_id(security_group_id)))})


@bp.post('/os-security-groups')
def create_security_group():
    _check('create')
    body = validation.json_body()
    validation.validate(body, schemas.GROUP)
    values = body['security_group']
    try:
        group = network.api().create_security_group(g.context, values['name'],
                                                    values['description'])
    except exceptions.Conflict as exc:
        # Nova reads Neutron's 409 (the name "default") as a quota refusal.
        raise errors.Forbidden(str(exc)) from exc
    except exceptions.Invalid as exc:
        raise errors.BadRequest(str(exc)) from exc
    return jsonify({'security_group': _view(views.nova_group(group))})


@bp.put('/os-security-groups/<security_group_id>')
def update_security_group(security_group_id: str):
    group_id = security_group_id
    _check('update')
    _get(_valid_id(group_id))
    body = validation.json_body()
    validation.validate(body, schemas.GROUP)
    values = body['security_group']
    try:
        group = network.api().update_security_group(
            g.context, group_id, {'name': values['name'],
                                  'description': values['description']})
    except exceptions.NotFound as exc:
        raise errors.NotFound(str(exc)) from exc
    except (exceptions.Invalid, exceptions.Conflict) as exc:
        # Renaming the default group: Neutron's 409, a request Nova cannot do.
        raise errors.BadRequest(str(exc)) from exc
    return jsonify({'security_group': _view(views.nova_group(group))})


@bp.delete('/os-security-groups/<security_group_id>')
def delete_security_group(security_group_id: str):
    group_id = security_group_id
    _check('delete')
    _get(_valid_id(group_id))
    try:
        network.api().delete_security_group(g.context, group_id)
    except exceptions.NotFound as exc:
        raise errors.NotFound(str(exc)) from exc
    except (exceptions.Conflict, exceptions.Invalid) as exc:
        # In use, or the project's default: Neutron's 409, Nova's 400.
        raise errors.BadRequest(str(exc)) from exc
    return '', 202


# --- rules -------------------------------------------------------------------------

def _cidr(value) -> str:
    """Nova's parse_cidr: none is 0.0.0.0/0; a CIDR needs its prefix length."""
    if not value:
        return views.ANY_IPV4
    text = urllib.parse.unquote(str(value))
    address, slash, length = text.partition('/')
    try:
        if not slash or not length:
            raise ValueError(text)
        ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise errors.BadRequest(f'{value} is not a valid IP network.') from exc
    if address not in ('0.0.0.0', '::') and length == '0':
        raise errors.BadRequest(f'Bad prefix for network in cidr {text}')
    return text


def _ports(protocol, low, high, group_id) -> dict | None:
    """Nova's ingress rule from ip_protocol, from_port, to_port (None: not enough
    to build one)."""
    upper = str(protocol).upper() if protocol else ''
    if group_id and low is None and high is None:
        # A source group with no ports opens the protocol's whole range.
        if upper == 'ICMP':
            low = high = -1
        elif upper in ('TCP', 'UDP'):
            low, high = 1, 65535
    if not (protocol and low is not None and high is not None):
        return {} if group_id else None
    try:
        low, high = int(low), int(high)
    except (TypeError, ValueError) as exc:
        reason = ('Type and Code must be integers for ICMP protocol type'
                  if upper == 'ICMP' else 'To and From ports must be integers')
        raise errors.BadRequest(f'Invalid input received: {reason}') from exc
    if upper not in ('TCP', 'UDP', 'ICMP'):
        raise errors.BadRequest(f'Invalid IP protocol {protocol}.')
    problem = None
    if upper in ('TCP', 'UDP') and low > high:
        problem = 'Former value cannot be greater than the later'
    elif upper in ('TCP', 'UDP') and (low < 1 or high > 65535):
        problem = f'Valid {upper} ports should be between 1-65535'
    elif upper == 'ICMP' and not (-1 <= low <= 255 and -1 <= high <= 255):
        problem = 'For ICMP, the type:code must be valid'
    if problem:
        raise errors.BadRequest(f'Invalid port range {low}:{high}. {problem}')
    return {'protocol': str(protocol), 'from_port': low, 'to_port': high}


def _exists(group: dict, rule: dict) -> bool:
    keys = ('group_id', 'cidr', 'from_port', 'to_port', 'protocol')
    return any(all(existing.get(k) == rule.get(k) for k in keys)
               for existing in group['rules'])


@bp.post('/os-security-group-rules')
def create_security_group_rule():
    _check('rule:create')
    body = validation.json_body()
    validation.validate(body, schemas.RULE)
    asked = body['security_group_rule']
    group_id = asked.get('group_id')
    group = _get(asked['parent_group_id'])
    source = _get(group_id) if group_id is not None else None
    cidr = _cidr(asked.get('cidr')) if group_id is None else None
    rule = _ports(asked.get('ip_protocol'), asked.get('from_port'),
                  asked.get('to_port'), group_id)
    if rule is not None:
        rule.update({'cidr': cidr} if group_id is None else {'group_id': group_id})
    if rule is None:
        raise errors.BadRequest('Not enough parameters to build a valid rule.')
    if _exists(group, rule):
        raise errors.BadRequest(f"This rule already exists in group {group['id']}")
    try:
        created = network.api().create_security_group_rule(g.context, _neutron_rule(
            group['id'], rule))
    except exceptions.NotFound as exc:
        raise errors.NotFound(str(exc)) from exc
    except exceptions.Conflict as exc:
        raise errors.Forbidden(str(exc)) from exc
    except exceptions.Invalid as exc:
        raise errors.BadRequest(str(exc)) from exc
    remotes = _Remotes([group] + ([source] if source else []))
    return jsonify({'security_group_rule': views.rule_view(views.nova_rule(created),
                                                           remotes)})


def _neutron_rule(group_id: str, rule: dict) -> dict:
    """Nova's rule as Neutron's: ingress; the ethertype of the CIDR (IPv4 for a
    source group); -1 (ICMP's any) is no port."""
    cidr = rule.get('cidr')
    ethertype = 'IPv6' if cidr and ipaddress.ip_network(cidr, strict=False).version == 6 \
        else 'IPv4'
    body = {'security_group_id': group_id, 'direction': 'ingress', 'ethertype': ethertype,
            'protocol': rule.get('protocol'), 'remote_ip_prefix': cidr,
            'remote_group_id': rule.get('group_id')}
    for nova_key, neutron_key in (('from_port', 'port_range_min'),
                                  ('to_port', 'port_range_max')):
        if nova_key in rule and rule[nova_key] != -1:
            body[neutron_key] = rule[nova_key]
    return body


@bp.delete('/os-security-group-rules/<rule_id>')
def delete_security_group_rule(rule_id: str):
    _check('rule:delete')
    _valid_id(rule_id)
    api = network.api()
    try:
        rule = api.show_security_group_rule(g.context, rule_id)
        _get(rule['security_group_id'])
        api.delete_security_group_rule(g.context, rule_id)
    except exceptions.NotFound as exc:
        raise errors.NotFound(str(exc)) from exc
    except exceptions.Conflict as exc:
        raise errors.Conflict(str(exc)) from exc
    return '', 202


# --- a server's groups -------------------------------------------------------------

@bp.get('/servers/<server_id>/os-security-groups')
def list_server_security_groups(server_id: str):
    validation.validate_query(schemas.server_query(g.want))
    with session.reader() as s:
        instance = get_instance(server_id, s)
        project_id, uuid = instance.project_id, instance.uuid
    policy.authorize(g.context, _RULE % 'list', {'project_id': project_id})
    api = network.api()
    ports = api.port_security_groups(g.context, uuid)
    wanted = sorted({group_id for ids in ports.values() for group_id in ids})
    found = {group['id']: views.nova_group(group) for group in
             (api.list_security_groups(g.context, id=wanted) if wanted else [])}
    # One entry per port and group, as Nova (a group the caller cannot see is left out).
    groups = [found[group_id] for ids in ports.values() for group_id in ids
              if group_id in found]
    remotes = _Remotes(list(found.values()))
    return jsonify({'security_groups': views.sorted_groups(
        [views.group_view(group, remotes) for group in groups])})
