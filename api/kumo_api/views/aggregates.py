"""Aggregate views: os-aggregates (uuid from 2.41)."""
from __future__ import annotations

from kumo_api.microversion import APIVersion
from kumo_api.views import times
from kumo_common.db import aggregates as aggregate_db
from kumo_common.db import models


def aggregate_view(aggregate: models.Aggregate, want: APIVersion,
                   with_members: bool = True) -> dict:
    """The aggregate; create answers without hosts and metadata, as Nova."""
    metadata = aggregate_db.metadata_of(aggregate)
    view = {
        'availability_zone': metadata.get(aggregate_db.AZ_KEY),
        'created_at': times.iso_naive(aggregate.created_at),
        # Deleted aggregates are gone (Nova soft-deletes, but never shows them).
        'deleted': False,
        'deleted_at': None,
        'id': aggregate.id,
        'name': aggregate.name,
        'updated_at': times.iso_naive(aggregate.updated_at),
    }
    if with_members:
        view['hosts'] = aggregate_db.hosts_of(aggregate)
        view['metadata'] = metadata
    if want.at_least(2, 41):
        view['uuid'] = aggregate.uuid
    return {key: view[key] for key in sorted(view)}
