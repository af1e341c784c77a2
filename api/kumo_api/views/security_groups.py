"""Security groups and rules as Nova's proxies show them, from the network service's
(Neutron's) dicts: only ingress rules, a rule's ports and protocol in Nova's terms
(ip_protocol, from_port/to_port; -1 for ICMP's any), its remote as a group (name and
tenant) or an IP range."""
from __future__ import annotations

from collections.abc import Callable

ANY_IPV4 = '0.0.0.0/0'


def nova_rule(rule: dict) -> dict:
    """A Neutron rule in the terms Nova's security group API works in."""
    protocol = rule.get('protocol')
    low, high = rule.get('port_range_min'), rule.get('port_range_max')
    if protocol and low is None and high is None:
        low, high = (1, 65535) if protocol.upper() in ('TCP', 'UDP') else (-1, -1)
    return {'id': rule['id'], 'parent_group_id': rule['security_group_id'],
            'protocol': protocol, 'from_port': low, 'to_port': high,
            'group_id': rule.get('remote_group_id'),
            'cidr': rule.get('remote_ip_prefix') or ANY_IPV4}


def nova_group(group: dict) -> dict:
    return {'id': group['id'], 'name': group.get('name', ''),
            'description': group.get('description', ''),
            'project_id': group.get('project_id', group.get('tenant_id')),
            'rules': [nova_rule(r) for r in group.get('security_group_rules', [])
                      if r.get('direction') == 'ingress']}


# A rule's remote group as shown: {'name', 'tenant_id'}, or None when the caller
# cannot see it (the rule is then left out, as Nova does).
GroupLookup = Callable[[str], dict | None]


def rule_view(rule: dict, remote: GroupLookup) -> dict | None:
    view = {'id': rule['id'], 'parent_group_id': rule['parent_group_id'],
            'ip_protocol': rule['protocol'], 'from_port': rule['from_port'],
            'to_port': rule['to_port'], 'group': {}, 'ip_range': {}}
    if rule['group_id']:
        group = remote(rule['group_id'])
        if group is None:
            return None
        view['group'] = group
    else:
        view['ip_range'] = {'cidr': rule['cidr']}
    return view


def group_view(group: dict, remote: GroupLookup) -> dict:
    rules = [rule_view(r, remote) for r in group['rules']]
    return {'id': group['id'], 'description': group['description'],
            'name': group['name'], 'tenant_id': group['project_id'],
            'rules': [r for r in rules if r is not None]}


def sorted_groups(views: list[dict]) -> list[dict]:
    return sorted(views, key=lambda v: (v['tenant_id'], v['name']))
