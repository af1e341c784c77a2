"""Hypervisor views: os-hypervisors at each microversion (2.28 cpu_info object, 2.53
UUID ids, 2.75 servers always listed when asked, 2.88 usage fields gone)."""
from __future__ import annotations

import json

from kumo_api.microversion import APIVersion
from kumo_common.db import hypervisors as hypervisor_db
from kumo_common.db import models

_USAGE_FIELDS = ('vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used',
                 'local_gb_used', 'free_ram_mb', 'free_disk_gb', 'current_workload',
                 'running_vms', 'disk_available_least')


def server_summary(instance: models.Instance) -> dict:
    # Nova lists a hypervisor's servers by instance name (instance-%08x), not
    # display name.
    return {'name': 'instance-%08x' % instance.id, 'uuid': instance.uuid}


def _cpu_info(node: models.ComputeNode, want: APIVersion):
    if not want.at_least(2, 28):
        return node.cpu_info
    try:
        info = json.loads(node.cpu_info) if node.cpu_info else {}
    except ValueError:
        info = {}
    return info


def hypervisor_view(node: models.ComputeNode, service: models.Service, want: APIVersion,
                    up: bool, detail: bool = False,
                    usage: hypervisor_db.Usage | None = None,
                    servers: list[models.Instance] | None = None,
                    with_servers: bool = False, uptime: str | None = None) -> dict:
    uuids = want.at_least(2, 53)
    view = {
        'id': node.uuid if uuids else node.id,
        'hypervisor_hostname': node.hypervisor_hostname,
        'state': 'up' if up else 'down',
        'status': 'disabled' if service.disabled else 'enabled',
    }
    if detail:
        view.update({
            'hypervisor_type': node.hypervisor_type,
            'hypervisor_version': node.hypervisor_version,
            'host_ip': node.host_ip,
            'service': {'id': service.uuid if uuids else service.id, 'host': node.host,
                        'disabled_reason': service.disabled_reason},
        })
        if not want.at_least(2, 88):
            for name in _USAGE_FIELDS:
                view[name] = getattr(usage, name)
            view['cpu_info'] = _cpu_info(node, want)
        else:
            # What the host's agent says (null where its driver cannot tell, as with
            # every Nova driver but libvirt and z/VM, or the agent is down).
            view['uptime'] = uptime
    if servers:
        view['servers'] = [server_summary(i) for i in servers]
    elif with_servers and want.at_least(2, 75):
        view['servers'] = []
    return view


def statistics_view(totals: dict) -> dict:
    return {'hypervisor_statistics': {key: totals[key] for key in sorted(totals)}}
