"""Policies of os-keypairs (Nova's names/defaults): a user's own keys, or an admin."""
from oslo_policy import policy

from kumo_api.policies import base

PREFIX = 'os_compute_api:os-keypairs:%s'
ADMIN_OR_OWNER = '(' + base.ADMIN + ') or user_id:%(user_id)s'


def _rule(name, description, method, path):
    return policy.DocumentedRuleDefault(
        name=PREFIX % name, check_str=ADMIN_OR_OWNER, description=description,
        operations=[{'method': method, 'path': path}], scope_types=['project'])


rules = [
    _rule('index', 'List keypairs', 'GET', '/os-keypairs'),
    _rule('create', 'Create or import a keypair', 'POST', '/os-keypairs'),
    _rule('delete', 'Delete a keypair', 'DELETE', '/os-keypairs/{keypair_name}'),
    _rule('show', 'Show a keypair', 'GET', '/os-keypairs/{keypair_name}'),
]


def list_rules():
    return rules
