"""Policies of flavors: manage, access lists and extra specs (Nova's names/defaults).

Listing and showing flavors has no rule, as in Nova: everyone sees public flavors
and the private ones their project was given.
"""
from oslo_policy import policy

from kumo_api.policies import base

MANAGE = 'os_compute_api:os-flavor-manage:%s'
ACCESS = 'os_compute_api:os-flavor-access'
EXTRA_SPECS = 'os_compute_api:os-flavor-extra-specs:%s'


def _rule(name, check, description, operations):
    return policy.DocumentedRuleDefault(name=name, check_str=check,
                                        description=description, operations=operations,
                                        scope_types=['project'])


rules = [
    _rule(MANAGE % 'create', base.ADMIN, 'Create a flavor',
          [{'method': 'POST', 'path': '/flavors'}]),
    _rule(MANAGE % 'update', base.ADMIN, 'Update a flavor (its description, 2.55)',
          [{'method': 'PUT', 'path': '/flavors/{flavor_id}'}]),
    _rule(MANAGE % 'delete', base.ADMIN, 'Delete a flavor',
          [{'method': 'DELETE', 'path': '/flavors/{flavor_id}'}]),
    _rule(ACCESS + ':add_tenant_access', base.ADMIN, 'Add flavor access to a tenant',
          [{'method': 'POST', 'path': '/flavors/{flavor_id}/action (addTenantAccess)'}]),
    _rule(ACCESS + ':remove_tenant_access', base.ADMIN,
          'Remove flavor access from a tenant',
          [{'method': 'POST', 'path': '/flavors/{flavor_id}/action (removeTenantAccess)'}]),
    _rule(ACCESS, base.ADMIN, 'List the projects that have access to a private flavor',
          [{'method': 'GET', 'path': '/flavors/{flavor_id}/os-flavor-access'}]),
    _rule(EXTRA_SPECS % 'show', base.PROJECT_READER_OR_ADMIN,
          'Show an extra spec for a flavor',
          [{'method': 'GET',
            'path': '/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}'}]),
    _rule(EXTRA_SPECS % 'create', base.ADMIN, 'Create extra specs for a flavor',
          [{'method': 'POST', 'path': '/flavors/{flavor_id}/os-extra_specs/'}]),
    _rule(EXTRA_SPECS % 'update', base.ADMIN, 'Update an extra spec for a flavor',
          [{'method': 'PUT',
            'path': '/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}'}]),
    _rule(EXTRA_SPECS % 'delete', base.ADMIN, 'Delete an extra spec for a flavor',
          [{'method': 'DELETE',
            'path': '/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}'}]),
    _rule(EXTRA_SPECS % 'index', base.PROJECT_READER_OR_ADMIN,
          'List extra specs for a flavor. From microversion 2.61 also decides whether '
          'flavor views carry extra_specs.',
          [{'method': 'GET', 'path': '/flavors/{flavor_id}/os-extra_specs/'},
           {'method': 'POST', 'path': '/flavors'},
           {'method': 'GET', 'path': '/flavors/detail'},
           {'method': 'GET', 'path': '/flavors/{flavor_id}'},
           {'method': 'PUT', 'path': '/flavors/{flavor_id}'}]),
]


def list_rules():
    return rules
