"""Security groups and their rules (Neutron): GET/POST /v2.0/security-groups,
GET/PUT/DELETE /v2.0/security-groups/{id}, GET/POST /v2.0/security-group-rules,
GET/DELETE /v2.0/security-group-rules/{id}; and an empty floating IP list, which
clients look up.

Every project has its "default" group (made on its first use, with Neutron's default
rules: everything out, in from the group's members); it cannot be renamed, nor
deleted by its project. The semantics (rule checks, duplicates, a group in use by a
port) are kumo_common.db.security_groups', shared with Nova's proxies. Records only:
nothing enforces the rules on guests.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from kumo_api.network_service import access, body, errors, listing
from kumo_common.db import keyset, session
from kumo_common.db import security_groups as sg_db

bp = Blueprint('security_groups', __name__)
Group = sg_db.Group
Rule = sg_db.Rule

GROUPS = listing.Collection(
    name='security_groups', id_column=Group.id,
    filters={
        'id': listing.Filter.column(Group.id),
        'name': listing.Filter.column(Group.name),
        'description': listing.Filter.column(Group.description),
        'project_id': listing.Filter.column(Group.project_id),
        'tenant_id': listing.Filter.column(Group.project_id),
    },
    sort_keys={'name': keyset.SortKey(Group.name), 'id': keyset.SortKey(Group.id),
               'project_id': keyset.SortKey(Group.project_id)})


def _port_filter(value: str) -> int:
    return int(value)


RULES = listing.Collection(
    name='security_group_rules', id_column=Rule.id,
    filters={
        'id': listing.Filter.column(Rule.id),
        'security_group_id': listing.Filter.column(Rule.security_group_id),
        'direction': listing.Filter.column(Rule.direction),
        'ethertype': listing.Filter.column(Rule.ethertype),
        'protocol': listing.Filter.column(Rule.protocol),
        'port_range_min': listing.Filter.column(Rule.port_range_min, _port_filter),
        'port_range_max': listing.Filter.column(Rule.port_range_max, _port_filter),
        'remote_ip_prefix': listing.Filter.column(Rule.remote_ip_prefix),
        'remote_group_id': listing.Filter.column(Rule.remote_group_id),
        'description': listing.Filter.column(Rule.description),
        'project_id': listing.Filter.column(Rule.project_id),
        'tenant_id': listing.Filter.column(Rule.project_id),
    },
    sort_keys={'id': keyset.SortKey(Rule.id),
               'direction': keyset.SortKey(Rule.direction),
               'ethertype': keyset.SortKey(Rule.ethertype),
               'security_group_id': keyset.SortKey(Rule.security_group_id)})

_GROUP_UPDATABLE = {'name': body.string(255), 'description': body.string(255)}
_GROUP_ATTRIBUTES = {**_GROUP_UPDATABLE, 'project_id': body.string(255),
                     'tenant_id': body.string(255)}
# Neutron extensions' attributes clients send that Kumo accepts and does not keep
# (every group is stateful).
_GROUP_IGNORED = ('stateful', 'tags', 'shared')


def _one_of(*valid: str, fold: bool = False) -> body.Check:
    def check(name: str, value):
        for choice in valid:
            if value == choice or (fold and isinstance(value, str)
                                   and value.lower() == choice.lower()):
                return choice
        raise errors.BadRequest(f"Invalid input for {name}. Reason: '{value}' is not in "
                                f"{list(valid)}.")
    return check


def _raw(name: str, value):
    # Checked (and converted) with Neutron's rule messages in check_rule.
    return value


_RULE_ATTRIBUTES = {
    'security_group_id': body.uuid,
    'direction': _one_of('ingress', 'egress'),
    'ethertype': _one_of('IPv4', 'IPv6', fold=True),
    'protocol': body.nullable(_raw),
    'port_range_min': body.nullable(_raw),
    'port_range_max': body.nullable(_raw),
    'remote_ip_prefix': body.nullable(_raw),
    'remote_group_id': body.nullable(body.uuid),
    'description': body.string(255),
    'project_id': body.string(255),
    'tenant_id': body.string(255),
}
_RULE_IGNORED = ('remote_address_group_id',)


def _context() -> tuple[str | None, bool]:
    return access.project_id(), access.is_admin()


# --- groups ------------------------------------------------------------------------

@bp.get('/v2.0/security-groups')
def list_security_groups():
    sg_db.ensure_default(access.project_id())
    with session.reader() as s:
        query = sa.select(Group).where(sg_db.visible_to(*_context()))
        return listing.respond(s, GROUPS, query, sg_db.group_dict)


@bp.get('/v2.0/security-groups/<group_id>')
def show_security_group(group_id: str):
    sg_db.ensure_default(access.project_id())
    with session.reader() as s:
        view = sg_db.group_dict(sg_db.get(s, group_id, *_context()))
    return jsonify({'security_group': listing.select_fields(
        view, request.args.getlist('fields'))})


@bp.post('/v2.0/security-groups')
def create_security_group():
    values = body.parse('security_group', _GROUP_ATTRIBUTES, _GROUP_IGNORED)
    owner = access.owner_of_new(values)
    access.authorize('create_security_group', owner)
    sg_db.ensure_default(owner)
    with session.transaction() as s:
        group = sg_db.create(s, owner, values.get('name', ''),
                             values.get('description', ''))
        view = sg_db.group_dict(group)
    return jsonify({'security_group': view}), 201


@bp.put('/v2.0/security-groups/<group_id>')
def update_security_group(group_id: str):
    values = body.parse('security_group', _GROUP_UPDATABLE, _GROUP_IGNORED)
    with session.transaction() as s:
        group = sg_db.get(s, group_id, *_context())
        access.authorize('update_security_group', group.project_id)
        sg_db.update(s, group, values)
        view = sg_db.group_dict(group)
    return jsonify({'security_group': view})


@bp.delete('/v2.0/security-groups/<group_id>')
def delete_security_group(group_id: str):
    with session.transaction() as s:
        group = sg_db.get(s, group_id, *_context())
        access.authorize('delete_security_group', group.project_id)
        sg_db.delete(s, group, access.is_admin())
    return '', 204


# --- rules -------------------------------------------------------------------------

def _rule_view(rule: sg_db.models.SecurityGroupRule) -> dict:
    return sg_db.rule_dict(rule, rule.project_id)


@bp.get('/v2.0/security-group-rules')
def list_security_group_rules():
    sg_db.ensure_default(access.project_id())
    with session.reader() as s:
        query = sa.select(Rule).join(Group, Group.id == Rule.security_group_id).where(
            sg_db.rule_visible_to(*_context()))
        return listing.respond(s, RULES, query, _rule_view)


@bp.get('/v2.0/security-group-rules/<rule_id>')
def show_security_group_rule(rule_id: str):
    with session.reader() as s:
        view = _rule_view(sg_db.get_rule(s, rule_id, *_context()))
    return jsonify({'security_group_rule': listing.select_fields(
        view, request.args.getlist('fields'))})


@bp.post('/v2.0/security-group-rules')
def create_security_group_rule():
    values = body.parse('security_group_rule', _RULE_ATTRIBUTES, _RULE_IGNORED,
                        required=('security_group_id', 'direction'))
    access.owner_of_new(values)
    rule = sg_db.check_rule(values)
    sg_db.ensure_default(access.project_id())
    with session.transaction() as s:
        group = sg_db.get(s, values['security_group_id'], *_context())
        access.authorize('create_security_group_rule', group.project_id)
        if rule['remote_group_id']:
            sg_db.get(s, rule['remote_group_id'], *_context())
        view = _rule_view(sg_db.add_rule(s, group, rule, group.project_id))
    return jsonify({'security_group_rule': view}), 201


@bp.delete('/v2.0/security-group-rules/<rule_id>')
def delete_security_group_rule(rule_id: str):
    with session.transaction() as s:
        rule = sg_db.get_rule(s, rule_id, *_context())
        access.authorize('delete_security_group_rule', rule.project_id)
        s.delete(rule)
    return '', 204


@bp.get('/v2.0/floatingips')
def list_floating_ips():
    return jsonify({'floatingips': []})
