"""Flavor views (list, detail, show, create, update) and flavor access lists."""
from __future__ import annotations

from kumo_api.microversion import APIVersion
from kumo_api.views import links
from kumo_common.db import flavors as flavor_db
from kumo_common.db import models


def flavor_summary(flavor: models.Flavor, want: APIVersion) -> dict:
    """An item of GET /flavors."""
    view = {'id': flavor.flavorid, 'links': links.resource_links('flavors', flavor.flavorid),
            'name': flavor.name}
    if want.at_least(2, 55):
        view['description'] = flavor.description
    return view


def flavor_view(flavor: models.Flavor, want: APIVersion, extra_specs: bool) -> dict:
    """A flavor in full; `extra_specs` says whether policy lets the caller see them
    (they are part of the view from 2.61)."""
    view = {
        'OS-FLV-DISABLED:disabled': bool(flavor.disabled),
        'disk': flavor.root_gb,
        'OS-FLV-EXT-DATA:ephemeral': flavor.ephemeral_gb,
        'os-flavor-access:is_public': bool(flavor.is_public),
        'id': flavor.flavorid,
        'links': links.resource_links('flavors', flavor.flavorid),
        'name': flavor.name,
        'ram': flavor.memory_mb,
        # No swap was "" until 2.75, 0 since.
        'swap': flavor.swap or (0 if want.at_least(2, 75) else ''),
        'vcpus': flavor.vcpus,
        'rxtx_factor': flavor.rxtx_factor or '',
    }
    if want.at_least(2, 55):
        view['description'] = flavor.description
    if want.at_least(2, 61) and extra_specs:
        view['extra_specs'] = flavor_db.extra_specs(flavor)
    return view


def access_list(flavor: models.Flavor, projects: list[str]) -> dict:
    return {'flavor_access': [{'flavor_id': flavor.flavorid, 'tenant_id': p}
                              for p in projects]}
