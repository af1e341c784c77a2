"""Policies of the network service, under Neutron's names and with its defaults'
intent: project members manage their project's networks, subnets and ports;
shared, external and default networks, and choosing a port's MAC address, are for
admins; binding a port to a host is for services (Nova's, Kumo's conductor) and
admins. (Which resources a caller can see at all is kumo_common.db's visibility
rule: own project, shared or external networks.)"""
from oslo_policy import policy

from kumo_api.policies import base


def _rule(name: str, check: str, description: str, method: str, path: str):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': path}], scope_types=['project'])


rules = [
    _rule('create_network', base.PROJECT_MEMBER_OR_ADMIN, 'Create a network', 'POST',
          '/v2.0/networks'),
    _rule('create_network:shared', base.ADMIN, 'Create a shared network', 'POST',
          '/v2.0/networks'),
    _rule('create_network:router:external', base.ADMIN, 'Create an external network',
          'POST', '/v2.0/networks'),
    _rule('create_network:is_default', base.ADMIN,
          'Create the default network ("networks": "auto")', 'POST', '/v2.0/networks'),
    _rule('update_network', base.PROJECT_MEMBER_OR_ADMIN, 'Update a network', 'PUT',
          '/v2.0/networks/{id}'),
    _rule('update_network:shared', base.ADMIN, 'Share or unshare a network', 'PUT',
          '/v2.0/networks/{id}'),
    _rule('update_network:router:external', base.ADMIN,
          'Make a network external or not', 'PUT', '/v2.0/networks/{id}'),
    _rule('update_network:is_default', base.ADMIN, 'Make a network the default', 'PUT',
          '/v2.0/networks/{id}'),
    _rule('delete_network', base.PROJECT_MEMBER_OR_ADMIN, 'Delete a network', 'DELETE',
          '/v2.0/networks/{id}'),
    _rule('create_subnet', base.PROJECT_MEMBER_OR_ADMIN,
          'Create a subnet (on a network of the project)', 'POST', '/v2.0/subnets'),
    _rule('update_subnet', base.PROJECT_MEMBER_OR_ADMIN, 'Update a subnet', 'PUT',
          '/v2.0/subnets/{id}'),
    _rule('delete_subnet', base.PROJECT_MEMBER_OR_ADMIN, 'Delete a subnet', 'DELETE',
          '/v2.0/subnets/{id}'),
    _rule('create_port', base.PROJECT_MEMBER_OR_ADMIN, 'Create a port', 'POST', '/v2.0/ports'),
    _rule('create_port:mac_address', base.ADMIN, 'Choose the MAC address of a new port',
          'POST', '/v2.0/ports'),
    _rule('create_port:binding:host_id', base.SERVICE_ROLE,
          'Bind a new port to a host (a compute service does, as it places a server)',
          'POST', '/v2.0/ports'),
    _rule('update_port', base.PROJECT_MEMBER_OR_ADMIN, 'Update a port', 'PUT',
          '/v2.0/ports/{id}'),
    _rule('update_port:binding:host_id', base.SERVICE_ROLE,
          'Bind a port to another host, or unbind it (a compute service does, as its '
          'server moves)', 'PUT', '/v2.0/ports/{id}'),
    _rule('delete_port', base.PROJECT_MEMBER_OR_ADMIN, 'Delete a port', 'DELETE',
          '/v2.0/ports/{id}'),
    _rule('create_security_group', base.PROJECT_MEMBER_OR_ADMIN,
          'Create a security group', 'POST', '/v2.0/security-groups'),
    _rule('update_security_group', base.PROJECT_MEMBER_OR_ADMIN,
          'Update a security group', 'PUT', '/v2.0/security-groups/{id}'),
    _rule('delete_security_group', base.PROJECT_MEMBER_OR_ADMIN,
          'Delete a security group', 'DELETE', '/v2.0/security-groups/{id}'),
    _rule('create_security_group_rule', base.PROJECT_MEMBER_OR_ADMIN,
          'Create a security group rule', 'POST', '/v2.0/security-group-rules'),
    _rule('delete_security_group_rule', base.PROJECT_MEMBER_OR_ADMIN,
          'Delete a security group rule', 'DELETE', '/v2.0/security-group-rules/{id}'),
]


def list_rules():
    return rules
