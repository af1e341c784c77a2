"""Key pair views per microversion (type from 2.2)."""
from __future__ import annotations

from kumo_api.microversion import APIVersion
from kumo_api.views import times
from kumo_common.db import models


def keypair_summary(keypair: models.KeyPair, want: APIVersion) -> dict:
    """An item of GET /os-keypairs (wrapped in {"keypair": ...} by the caller)."""
    view = {'fingerprint': keypair.fingerprint, 'name': keypair.name}
    if want.at_least(2, 2):
        view['type'] = keypair.type
    view['public_key'] = keypair.public_key
    return view


def keypair_created(keypair: models.KeyPair, want: APIVersion,
                    private_key: str | None = None) -> dict:
    """POST /os-keypairs: private_key only when Kumo generated the key."""
    view = keypair_summary(keypair, want)
    if private_key is not None:
        view['private_key'] = private_key
    view['user_id'] = keypair.user_id
    return view


def keypair_view(keypair: models.KeyPair, want: APIVersion) -> dict:
    """GET /os-keypairs/{name}. Key pairs are deleted for good, so never "deleted"."""
    view = keypair_summary(keypair, want)
    view.update({
        'user_id': keypair.user_id,
        'deleted': False,
        'created_at': times.iso_naive(keypair.created_at),
        'updated_at': times.iso_naive(keypair.updated_at),
        'deleted_at': None,
        'id': keypair.id,
    })
    return view
