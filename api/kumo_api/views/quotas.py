"""Views of os-quota-sets, os-quota-class-sets and GET /limits, per microversion."""
from __future__ import annotations

from kumo_api.microversion import APIVersion
from kumo_common import quota

_INJECTED = ('injected_file_content_bytes', 'injected_file_path_bytes', 'injected_files')


def shown_resources(want: APIVersion) -> list[str]:
    """Quota resources a quota set shows: network ones until 2.35, files until 2.56."""
    hidden: set[str] = set()
    if want.at_least(2, 36):
        hidden.update(quota.NETWORK_RESOURCES)
    if want.at_least(2, 57):
        hidden.update(_INJECTED)
    return [r for r in quota.RESOURCES if r not in hidden]


def quota_set(limits: dict, want: APIVersion, project_id: str | None = None) -> dict:
    """{"quota_set": {...}}; show and defaults carry the project `id`, update not."""
    view: dict = {'id': project_id} if project_id is not None else {}
    view.update({r: limits[r] for r in shown_resources(want)})
    return {'quota_set': view}


def quota_detail(limits: dict, used: dict, want: APIVersion, project_id: str) -> dict:
    view: dict = {'id': project_id}
    # Reservations do not exist in Kumo (admission is one transaction): always 0.
    view.update({r: {'in_use': used[r], 'limit': limits[r], 'reserved': 0}
                 for r in shown_resources(want)})
    return {'quota_set': view}


def shown_class_resources(want: APIVersion) -> list[str]:
    """Resources a quota class set shows: before 2.50 the network ones but not the
    server group ones (Nova's v2.1 omission, fixed in 2.50); from 2.50 the server
    group ones and not the network ones; from 2.57 no personality files either."""
    if not want.at_least(2, 50):
        hidden = {'server_groups', 'server_group_members'}
    else:
        hidden = set(quota.NETWORK_RESOURCES)
        if want.at_least(2, 57):
            hidden.update(_INJECTED)
    return [r for r in quota.RESOURCES if r not in hidden]


def quota_class_set(limits: dict, want: APIVersion, class_name: str | None = None
                    ) -> dict:
    """{"quota_class_set": {...}}; show carries the class `id`, update not."""
    view: dict = {'id': class_name} if class_name is not None else {}
    view.update({r: limits[r] for r in shown_class_resources(want)})
    return {'quota_class_set': view}


# (absolute limit name, quota resource, last microversion that shows it)
_ABSOLUTE = [
    ('maxImageMeta', 'metadata_items', (2, 38)),
    ('maxPersonality', 'injected_files', (2, 56)),
    ('maxPersonalitySize', 'injected_file_content_bytes', (2, 56)),
    ('maxSecurityGroupRules', 'security_group_rules', (2, 35)),
    ('maxSecurityGroups', 'security_groups', (2, 35)),
    ('maxServerMeta', 'metadata_items', None),
    ('maxTotalCores', 'cores', None),
    ('maxTotalFloatingIps', 'floating_ips', (2, 35)),
    ('maxTotalInstances', 'instances', None),
    ('maxTotalKeypairs', 'key_pairs', None),
    ('maxTotalRAMSize', 'ram', None),
    ('maxServerGroups', 'server_groups', None),
    ('maxServerGroupMembers', 'server_group_members', None),
]
_USED = [
    ('totalCoresUsed', 'cores', None),
    ('totalInstancesUsed', 'instances', None),
    ('totalRAMUsed', 'ram', None),
    ('totalSecurityGroupsUsed', 'security_groups', (2, 35)),
    ('totalFloatingIpsUsed', 'floating_ips', (2, 35)),
    ('totalServerGroupsUsed', 'server_groups', None),
]


def limits_view(limits: dict, used: dict, want: APIVersion) -> dict:
    absolute = {}
    for table, values in ((_ABSOLUTE, limits), (_USED, used)):
        for name, resource, until in table:
            if until is None or want.at_most(*until):
                absolute[name] = values[resource]
    return {'limits': {'absolute': absolute, 'rate': []}}
