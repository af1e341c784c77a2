"""Server group views: `policies` + `metadata` before 2.64, `policy` + `rules` from it;
owners from 2.13."""
from __future__ import annotations

from kumo_api.microversion import APIVersion
from kumo_common.db import models


def server_group_view(group: models.ServerGroup, members: list[str],
                      want: APIVersion) -> dict:
    view = {'id': group.uuid, 'name': group.name}
    if want.at_least(2, 64):
        view['policy'] = group.policy
        view['rules'] = dict(group.rules or {})
    else:
        view['policies'] = [group.policy]
        # Nova always showed an empty dict here, and dropped it at 2.64.
        view['metadata'] = {}
    view['members'] = list(members)
    if want.at_least(2, 13):
        view['project_id'] = group.project_id
        view['user_id'] = group.user_id
    return view
