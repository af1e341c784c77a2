"""Policies of os-aggregates (Nova's names and defaults: admin only)."""
from oslo_policy import policy

from kumo_api.policies import base


def _rule(name, description, method, path, prefix='os_compute_api:os-aggregates:'):
    return policy.DocumentedRuleDefault(
        name=prefix + name, check_str=base.ADMIN, description=description,
        operations=[{'method': method, 'path': path}], scope_types=['project'])


rules = [
    _rule('index', 'List host aggregates', 'GET', '/os-aggregates'),
    _rule('create', 'Create a host aggregate', 'POST', '/os-aggregates'),
    _rule('show', 'Show a host aggregate', 'GET', '/os-aggregates/{aggregate_id}'),
    _rule('update', 'Rename or re-zone a host aggregate', 'PUT',
          '/os-aggregates/{aggregate_id}'),
    _rule('delete', 'Delete a host aggregate', 'DELETE', '/os-aggregates/{aggregate_id}'),
    _rule('add_host', 'Add a host to an aggregate', 'POST',
          '/os-aggregates/{aggregate_id}/action (add_host)'),
    _rule('remove_host', 'Remove a host from an aggregate', 'POST',
          '/os-aggregates/{aggregate_id}/action (remove_host)'),
    _rule('set_metadata', 'Set the metadata of an aggregate', 'POST',
          '/os-aggregates/{aggregate_id}/action (set_metadata)'),
    _rule('images', 'Ask the hosts of an aggregate to cache images (2.81)', 'POST',
          '/os-aggregates/{aggregate_id}/images', prefix='compute:aggregates:'),
]


def list_rules():
    return rules
