"""The os-keypairs resource: a user's SSH (or x509) public keys.

Key pairs belong to a user, not a project. From 2.10 an admin may act for another
user (`user_id` in the body or query). Each user may hold [quota] key_pairs of them
(or their project's override), admitted atomically by kumo_common.quota.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from kumo_api import errors, keypair_crypto, paging, policy, validation
from kumo_api.schemas import keypairs as schemas
from kumo_api.views import keypairs as views
from kumo_common import exceptions, quota
from kumo_common.db import keypairs as keypair_db
from kumo_common.db import session

bp = Blueprint('keypairs', __name__)

_RULE = 'os_compute_api:os-keypairs:%s'


def _user_id() -> str:
    """The user whose keys a call is about: ?user_id= (2.10+, admins) or the caller."""
    if g.want.at_least(2, 10):
        values = request.args.getlist('user_id')
        if values and values[0]:
            return values[0]
    return g.context.user_id


def _authorize(action: str, user_id: str) -> None:
    policy.authorize(g.context, _RULE % action,
                     {'user_id': user_id, 'project_id': g.context.project_id})


def _get(s, user_id: str, name: str):
    try:
        return keypair_db.get(s, user_id, name)
    except exceptions.KeypairNotFound as exc:
        raise errors.NotFound(str(exc)) from exc


@bp.get('/os-keypairs')
def list_keypairs():
    want = g.want
    validation.validate_query(schemas.index_query(want))
    user_id = _user_id()
    _authorize('index', user_id)
    with session.reader() as s:
        keypairs = keypair_db.list_for_user(s, user_id)
    body: dict = {}
    if want.at_least(2, 35):
        limit = paging.page_limit(request.args)
        marker = request.args.get('marker')
        if marker:
            names = [k.name for k in keypairs]
            if marker not in names:
                raise errors.BadRequest(f'Marker {marker} could not be found.')
            keypairs = keypairs[names.index(marker) + 1:]
        keypairs = keypairs[:limit]
        body = paging.next_links(request.args, keypairs, limit, 'os-keypairs',
                                 lambda k: k.name, 'keypairs_links')
    return jsonify({'keypairs': [{'keypair': views.keypair_summary(k, want)}
                                 for k in keypairs], **body})


@bp.post('/os-keypairs')
def create_keypair():
    want = g.want
    ctxt = g.context
    body = validation.json_body()
    validation.validate(body, validation.schema_for(schemas.CREATE, want))
    params = body['keypair']
    key_type = params.get('type', 'ssh')
    user_id = params.get('user_id') or ctxt.user_id
    _authorize('create', user_id)
    private_key = None
    # Key work (RSA generation takes a while) before the transaction, not inside it.
    if 'public_key' in params:
        public_key = params['public_key']
        fingerprint = keypair_crypto.fingerprint(public_key, key_type)
    elif key_type == 'x509':
        private_key, public_key, fingerprint = keypair_crypto.generate_x509(user_id)
    else:
        private_key, public_key, fingerprint = keypair_crypto.generate_ssh()
    quota.ensure_usage(ctxt.project_id, user_id, keypairs=True)
    with session.transaction() as s:
        quota.admit_keypair(s, ctxt.project_id, user_id)
        keypair = keypair_db.create(s, user_id, params['name'], public_key, fingerprint,
                                    key_type)
        view = views.keypair_created(keypair, want, private_key)
    return jsonify({'keypair': view}), 201 if want.at_least(2, 2) else 200


@bp.get('/os-keypairs/<name>')
def show_keypair(name: str):
    validation.validate_query(schemas.item_query(g.want))
    user_id = _user_id()
    _authorize('show', user_id)
    with session.reader() as s:
        return jsonify({'keypair': views.keypair_view(_get(s, user_id, name), g.want)})


@bp.delete('/os-keypairs/<name>')
def delete_keypair(name: str):
    validation.validate_query(schemas.item_query(g.want))
    user_id = _user_id()
    _authorize('delete', user_id)
    with session.transaction() as s:
        try:
            keypair_db.delete(s, user_id, name)
        except exceptions.KeypairNotFound as exc:
            raise errors.NotFound(str(exc)) from exc
        quota.release_keypair(s, user_id)
    return '', 204 if g.want.at_least(2, 2) else 202
