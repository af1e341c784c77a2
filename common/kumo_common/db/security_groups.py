"""Security groups and their rules in the local network service's tables, with
Neutron's semantics: each project's "default" group (made on first use, with
Neutron's default rules), the rule checks and their messages, duplicates, a group in
use, and the Neutron v2.0 dicts both the network service and the local NetworkAPI
answer with.

Only records: nothing here (or anywhere in Kumo) filters a guest's traffic.
"""
from __future__ import annotations

import datetime
import ipaddress
import uuid as uuidlib

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models, session

Group = models.SecurityGroup
Rule = models.SecurityGroupRule

# The default group's id (and its rules') derive from the project's, so that ports
# holding NULL (their project's default) and concurrent first uses agree on it.
SG_NAMESPACE = uuidlib.UUID('5b1e7d4c-3f0a-4f55-9a0e-6b1c2d3e4f50')
DEFAULT_GROUP = 'default'


def default_group_id(project_id: str) -> str:
    """The id of the project's "default" security group."""
    return str(uuidlib.uuid5(SG_NAMESPACE, project_id))


# --- Neutron's errors (the class name is the NeutronError type) ---------------------

class SecurityGroupNotFound(exceptions.NotFound):
    message = 'Security group %(id)s does not exist'


class SecurityGroupRuleNotFound(exceptions.NotFound):
    message = 'Security group rule %(id)s does not exist'


class SecurityGroupInUse(exceptions.Conflict):
    message = 'Security Group %(id)s in use.'


class SecurityGroupCannotRemoveDefault(exceptions.Conflict):
    message = 'Insufficient rights for removing default security group.'


class SecurityGroupCannotUpdateDefault(exceptions.Conflict):
    message = 'Updating default security group not allowed.'


class SecurityGroupDefaultAlreadyExists(exceptions.Conflict):
    message = 'Default security group already exists.'


class SecurityGroupRuleExists(exceptions.Conflict):
    message = 'Security group rule already exists. Rule id is %(rule_id)s.'


class SecurityGroupRuleInvalidProtocol(exceptions.Invalid):
    message = ('Security group rule protocol %(protocol)s not supported. Only protocol '
               'values %(values)s and integer representations [0 to 255] are supported.')


class SecurityGroupInvalidPortValue(exceptions.Invalid):
    message = 'Invalid value for port %(port)s'


class SecurityGroupInvalidPortRange(exceptions.Invalid):
    message = 'For TCP/UDP protocols, port_range_min must be <= port_range_max'


class SecurityGroupInvalidProtocolForPortRange(exceptions.Invalid):
    message = ('Invalid protocol %(protocol)s for port range, only supported for TCP, '
               'UDP, UDPLITE, SCTP and DCCP.')


class SecurityGroupProtocolRequiredWithPorts(exceptions.Invalid):
    message = 'Must also specify protocol if port range is given.'


class SecurityGroupInvalidIcmpValue(exceptions.Invalid):
    message = 'Invalid value for ICMP %(field)s (%(attr)s) %(value)s. It must be 0 to 255.'


class SecurityGroupMissingIcmpType(exceptions.Invalid):
    message = ('ICMP code (port-range-max) %(value)s is provided but ICMP type '
               '(port-range-min) is missing.')


class SecurityGroupRemoteGroupAndRemoteIpPrefix(exceptions.Invalid):
    message = 'Only remote_ip_prefix or remote_group_id may be provided.'


class SecurityGroupRuleParameterConflict(exceptions.Invalid):
    message = 'Conflicting value ethertype %(ethertype)s for CIDR %(cidr)s'


class InvalidCIDR(exceptions.Invalid):
    message = 'Invalid CIDR %(input)s given as IP prefix.'


# --- rule values ---------------------------------------------------------------------

# Neutron's protocol names and their numbers (neutron-lib's IP_PROTOCOL_MAP).
PROTOCOLS = {'ah': 51, 'dccp': 33, 'egp': 8, 'esp': 50, 'gre': 47, 'hopopt': 0,
             'icmp': 1, 'icmpv6': 58, 'igmp': 2, 'ip': 0, 'ipip': 4, 'ipv6-encap': 41,
             'ipv6-frag': 44, 'ipv6-icmp': 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60,
             'ipv6-route': 43, 'ospf': 89, 'pgm': 113, 'rsvp': 46, 'sctp': 132, 'tcp': 6,
             'udp': 17, 'udplite': 136, 'vrrp': 112}
_PORTED = {6, 17, 33, 132, 136}     # tcp, udp, dccp, sctp, udplite
_ICMP = {1, 58}


def convert_protocol(value) -> str | None:
    """A rule's protocol as Neutron keeps it: a known name (lower case), a number
    0-255 as a string, or None (any; also for "any")."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() == 'any':
        return None
    if text.isdigit() and 0 <= int(text) <= 255:
        return str(int(text))
    if text.lower() in PROTOCOLS:
        return text.lower()
    raise SecurityGroupRuleInvalidProtocol(protocol=value,
                                           values=[*PROTOCOLS, 'any'])


def protocol_number(protocol: str | None) -> int | None:
    if protocol is None:
        return None
    return int(protocol) if protocol.isdigit() else PROTOCOLS[protocol]


def convert_port(value) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise SecurityGroupInvalidPortValue(port=value) from exc
    if isinstance(value, bool) or isinstance(value, float) or not 0 <= number <= 65535:
        raise SecurityGroupInvalidPortValue(port=value)
    return number


def convert_cidr(value) -> str | None:
    """A remote_ip_prefix, kept as given once checked (Neutron shows its network in
    normalized_cidr)."""
    if value is None:
        return None
    try:
        normalized(str(value))
    except ValueError as exc:
        raise InvalidCIDR(input=value) from exc
    return str(value)


def normalized(prefix: str | None) -> str | None:
    return str(ipaddress.ip_network(prefix, strict=False)) if prefix else None


def check_rule(values: dict) -> dict:
    """A new rule's values (direction and ethertype already checked against their
    lists) checked as Neutron checks them: protocol, ports for it, one remote, the
    CIDR of the ethertype."""
    rule = {'direction': values['direction'],
            'ethertype': values.get('ethertype') or 'IPv4',
            'protocol': convert_protocol(values.get('protocol')),
            'port_range_min': convert_port(values.get('port_range_min')),
            'port_range_max': convert_port(values.get('port_range_max')),
            'remote_ip_prefix': convert_cidr(values.get('remote_ip_prefix')),
            'remote_group_id': values.get('remote_group_id'),
            'description': values.get('description') or ''}
    low, high = rule['port_range_min'], rule['port_range_max']
    if low is not None or high is not None:
        number = protocol_number(rule['protocol'])
        if number is None:
            raise SecurityGroupProtocolRequiredWithPorts()
        if number in _PORTED:
            if low == 0 or high == 0:
                raise SecurityGroupInvalidPortValue(port=0)
            if low is None or high is None or low > high:
                raise SecurityGroupInvalidPortRange()
        elif number in _ICMP:
            for attr, field in (('port_range_min', 'type'), ('port_range_max', 'code')):
                if rule[attr] is not None and not 0 <= rule[attr] <= 255:
                    raise SecurityGroupInvalidIcmpValue(field=field, attr=attr,
                                                        value=rule[attr])
            if low is None:
                raise SecurityGroupMissingIcmpType(value=high)
        else:
            raise SecurityGroupInvalidProtocolForPortRange(protocol=rule['protocol'])
    if rule['remote_ip_prefix'] and rule['remote_group_id']:
        raise SecurityGroupRemoteGroupAndRemoteIpPrefix()
    prefix = rule['remote_ip_prefix']
    if prefix and rule['ethertype'] != f'IPv{ipaddress.ip_network(prefix, strict=False).version}':
        raise SecurityGroupRuleParameterConflict(ethertype=rule['ethertype'], cidr=prefix)
    return rule


# --- visibility and look-ups ---------------------------------------------------------

def visible_to(project_id: str | None, is_admin: bool):
    """Groups a caller may see: admins all, others their project's."""
    return sa.true() if is_admin else Group.project_id == project_id


def rule_visible_to(project_id: str | None, is_admin: bool):
    return sa.true() if is_admin else sa.or_(Rule.project_id == project_id,
                                             Group.project_id == project_id)


def ensure_default(project_id: str | None) -> None:
    """The project's "default" group exists (made, with Neutron's default rules, in a
    transaction of its own; a concurrent first use making it too is harmless)."""
    if not project_id:
        return
    group_id = default_group_id(project_id)
    with session.reader() as s:
        if s.get(Group, group_id) is not None:
            return
    try:
        with session.transaction() as s:
            group = Group(id=group_id, project_id=project_id, name=DEFAULT_GROUP,
                          description='Default security group')
            s.add(group)
            # Everything out; in from members of the group itself.
            for n, (direction, ethertype, remote) in enumerate((
                    ('egress', 'IPv4', None), ('egress', 'IPv6', None),
                    ('ingress', 'IPv4', group_id), ('ingress', 'IPv6', group_id)), 1):
                group.rules.append(Rule(
                    id=str(uuidlib.uuid5(SG_NAMESPACE, f'{project_id}/{n}')),
                    project_id=project_id, direction=direction, ethertype=ethertype,
                    remote_group_id=remote, description=''))
    except sa_exc.IntegrityError:
        pass


def get(s: orm.Session, group_id: str, project_id: str | None,
        is_admin: bool) -> models.SecurityGroup:
    group = s.scalars(sa.select(Group).where(Group.id == group_id,
                                             visible_to(project_id, is_admin))).first()
    if group is None:
        raise SecurityGroupNotFound(id=group_id)
    return group


def get_rule(s: orm.Session, rule_id: str, project_id: str | None,
             is_admin: bool) -> models.SecurityGroupRule:
    rule = s.scalars(sa.select(Rule).join(Group, Group.id == Rule.security_group_id)
                     .where(Rule.id == rule_id, rule_visible_to(project_id, is_admin))
                     ).first()
    if rule is None:
        raise SecurityGroupRuleNotFound(id=rule_id)
    return rule


def is_default(group: models.SecurityGroup) -> bool:
    return group.id == default_group_id(group.project_id)


# --- changes -----------------------------------------------------------------------

def create(s: orm.Session, project_id: str, name: str,
           description: str) -> models.SecurityGroup:
    """A new group with Neutron's two egress rules (everything out)."""
    if name == DEFAULT_GROUP:
        raise SecurityGroupDefaultAlreadyExists()
    group = Group(id=str(uuidlib.uuid4()), project_id=project_id, name=name,
                  description=description)
    s.add(group)
    for ethertype in ('IPv4', 'IPv6'):
        group.rules.append(Rule(id=str(uuidlib.uuid4()), project_id=project_id,
                                direction='egress', ethertype=ethertype, description=''))
    s.flush()
    return group


def update(s: orm.Session, group: models.SecurityGroup, values: dict) -> None:
    if 'name' in values and values['name'] != group.name and (
            is_default(group) or values['name'] == DEFAULT_GROUP):
        raise SecurityGroupCannotUpdateDefault()
    for attribute in ('name', 'description'):
        if attribute in values:
            setattr(group, attribute, values[attribute])
    s.flush()


def in_use(s: orm.Session, group: models.SecurityGroup) -> bool:
    """Whether a port holds the group (ports holding NULL hold their project's
    default)."""
    holders = s.scalars(sa.select(models.Port.security_groups).where(
        models.Port.security_groups.is_not(None),
        sa.cast(models.Port.security_groups, sa.Text).contains(group.id)))
    if any(group.id in (groups or []) for groups in holders):
        return True
    if is_default(group):
        return s.scalar(sa.select(sa.func.count()).select_from(models.Port).where(
            models.Port.project_id == group.project_id,
            models.Port.security_groups.is_(None))) > 0
    return False


def delete(s: orm.Session, group: models.SecurityGroup, is_admin: bool) -> None:
    if is_default(group) and not is_admin:
        raise SecurityGroupCannotRemoveDefault()
    if in_use(s, group):
        raise SecurityGroupInUse(id=group.id)
    # Other groups' rules naming it as their remote go with it, as in Neutron.
    s.execute(sa.delete(Rule).where(Rule.remote_group_id == group.id,
                                    Rule.security_group_id != group.id))
    s.delete(group)
    s.flush()


def _same(rule: models.SecurityGroupRule, values: dict) -> bool:
    def any_prefix(prefix):
        # No prefix and the whole address space are one rule to Neutron.
        prefix = normalized(prefix)
        return None if prefix in (None, '0.0.0.0/0', '::/0') else prefix
    return (rule.direction == values['direction']
            and rule.ethertype == values['ethertype']
            and protocol_number(rule.protocol) == protocol_number(values['protocol'])
            and rule.port_range_min == values['port_range_min']
            and rule.port_range_max == values['port_range_max']
            and any_prefix(rule.remote_ip_prefix) == any_prefix(values['remote_ip_prefix'])
            and rule.remote_group_id == values['remote_group_id'])


def add_rule(s: orm.Session, group: models.SecurityGroup, values: dict,
             project_id: str) -> models.SecurityGroupRule:
    """A rule (values from check_rule) in the group; SecurityGroupRuleExists for one
    it has already."""
    for rule in group.rules:
        if _same(rule, values):
            raise SecurityGroupRuleExists(rule_id=rule.id)
    rule = Rule(id=str(uuidlib.uuid4()), project_id=project_id, **values)
    group.rules.append(rule)
    s.flush()
    return rule


# --- Neutron's dicts -----------------------------------------------------------------

def _time(value) -> str | None:
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value is not None else None


def rule_dict(rule: models.SecurityGroupRule, group_project: str | None = None) -> dict:
    return {
        'id': rule.id, 'security_group_id': rule.security_group_id,
        'direction': rule.direction, 'ethertype': rule.ethertype,
        'protocol': rule.protocol, 'port_range_min': rule.port_range_min,
        'port_range_max': rule.port_range_max,
        'remote_ip_prefix': rule.remote_ip_prefix,
        'normalized_cidr': normalized(rule.remote_ip_prefix),
        'remote_group_id': rule.remote_group_id, 'remote_address_group_id': None,
        'description': rule.description or '', 'project_id': rule.project_id,
        'tenant_id': rule.project_id,
        'belongs_to_default_sg': group_project is not None
        and rule.security_group_id == default_group_id(group_project),
        'created_at': _time(rule.created_at),
        'updated_at': _time(rule.updated_at or rule.created_at), 'revision_number': 0,
    }


def _rule_order(rule: models.SecurityGroupRule):
    return (rule.created_at or datetime.datetime.min, rule.id)


def group_dict(group: models.SecurityGroup) -> dict:
    return {
        'id': group.id, 'name': group.name, 'description': group.description or '',
        'project_id': group.project_id, 'tenant_id': group.project_id,
        'stateful': True, 'shared': False, 'tags': [],
        'security_group_rules': [rule_dict(r, group.project_id) for r in
                                 sorted(group.rules, key=_rule_order)],
        'created_at': _time(group.created_at),
        'updated_at': _time(group.updated_at or group.created_at), 'revision_number': 0,
    }
