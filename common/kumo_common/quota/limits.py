"""Quota limits: the [quota] defaults, quota classes, project and user overrides,
and the checks that need limits only (metadata items, personality files)."""
from __future__ import annotations

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import orm

from kumo_common.db import models
from kumo_common.quota.errors import (
    MetadataLimitExceeded,
    OnsetFileContentLimitExceeded,
    OnsetFileLimitExceeded,
    OnsetFilePathLimitExceeded,
)

CONF = cfg.CONF

# Every resource of Nova's quota sets, in the order its samples list them.
RESOURCES = ('cores', 'fixed_ips', 'floating_ips', 'injected_file_content_bytes',
             'injected_file_path_bytes', 'injected_files', 'instances', 'key_pairs',
             'metadata_items', 'ram', 'security_group_rules', 'security_groups',
             'server_groups', 'server_group_members')
# Limits that only a project has (a per-user value is ignored, as Nova).
PER_PROJECT = ('fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups',
               'server_groups')
# Network resources: listed before 2.36, never enforced here (Neutron's business).
NETWORK_RESOURCES = ('fixed_ips', 'floating_ips', 'security_group_rules',
                     'security_groups')
INSTANCE_RESOURCES = ('cores', 'instances', 'ram')


def defaults() -> dict[str, int]:
    """The [quota] defaults of every resource."""
    q = CONF.quota
    return {
        'cores': q.cores, 'fixed_ips': -1, 'floating_ips': -1,
        'injected_file_content_bytes': q.injected_file_content_bytes,
        'injected_file_path_bytes': q.injected_file_path_length,
        'injected_files': q.injected_files, 'instances': q.instances,
        'key_pairs': q.key_pairs, 'metadata_items': q.metadata_items, 'ram': q.ram,
        'security_group_rules': -1, 'security_groups': -1,
        'server_groups': q.server_groups, 'server_group_members': q.server_group_members,
    }


DEFAULT_CLASS = 'default'


def class_overrides(s: orm.Session, class_name: str) -> dict[str, int]:
    """The limits stored for a quota class."""
    qc = models.QuotaClass
    rows = s.execute(sa.select(qc.resource, qc.hard_limit).where(
        qc.class_name == class_name))
    return {resource: limit for resource, limit in rows if resource in RESOURCES}


def default_limits(s: orm.Session) -> dict[str, int]:
    """The defaults every project gets: the 'default' class over the [quota] options."""
    limits = defaults()
    limits.update(class_overrides(s, DEFAULT_CLASS))
    return limits


def get_class_limits(s: orm.Session, class_name: str) -> dict[str, int]:
    """A quota class's limits: its own, else the defaults (as Nova shows any class)."""
    limits = default_limits(s)
    limits.update(class_overrides(s, class_name))
    return limits


def set_class_limits(s: orm.Session, class_name: str, values: dict[str, int]) -> None:
    """Store a quota class's limits (insert or update). The network resources too,
    as Nova's database quota driver keeps them (shown before 2.50, never enforced)."""
    qc = models.QuotaClass
    existing = {row.resource: row for row in s.scalars(sa.select(qc).where(
        qc.class_name == class_name))}
    for resource, limit in values.items():
        if resource not in RESOURCES:
            continue
        if resource in existing:
            existing[resource].hard_limit = limit
        else:
            s.add(qc(class_name=class_name, resource=resource, hard_limit=limit))
    s.flush()


def overrides(s: orm.Session, project_id: str, user_id: str | None = None
              ) -> dict[str, int]:
    """The limits stored for the project (user_id None) or for one of its users."""
    q = models.Quota
    rows = s.execute(sa.select(q.resource, q.hard_limit).where(
        q.project_id == project_id, q.user_id == (user_id or '')))
    return {resource: limit for resource, limit in rows if resource in RESOURCES}


def get_limits(s: orm.Session, project_id: str, user_id: str | None = None,
               project_limits: dict[str, int] | None = None) -> dict[str, int]:
    """Effective limits of a project, or of a user in it (their overrides win).
    `project_limits`: the project's, if the caller read them already in this
    transaction (only the user's overrides are read then)."""
    if project_limits is None:
        limits = default_limits(s)
        limits.update(overrides(s, project_id))
    else:
        limits = dict(project_limits)
    if user_id:
        limits.update({r: v for r, v in overrides(s, project_id, user_id).items()
                       if r not in PER_PROJECT})
    return limits


def set_limits(s: orm.Session, project_id: str, values: dict[str, int],
               user_id: str | None = None) -> None:
    """Store overrides (insert or update), for the project or one of its users."""
    q = models.Quota
    existing = {row.resource: row for row in s.scalars(sa.select(q).where(
        q.project_id == project_id, q.user_id == (user_id or '')))}
    for resource, limit in values.items():
        if user_id and resource in PER_PROJECT:
            continue
        if resource in existing:
            existing[resource].hard_limit = limit
        else:
            s.add(q(project_id=project_id, user_id=user_id or '', resource=resource,
                    hard_limit=limit))
    s.flush()


def delete_limits(s: orm.Session, project_id: str, user_id: str | None = None) -> None:
    """Back to defaults: a user's overrides, or the project's and all its users'."""
    q = models.Quota
    stmt = sa.delete(q).where(q.project_id == project_id)
    if user_id:
        stmt = stmt.where(q.user_id == user_id)
    s.execute(stmt)


def check_metadata_items(s: orm.Session, project_id: str, count: int,
                         project_limits: dict[str, int] | None = None) -> None:
    """403 if a server would carry more metadata items than the project may
    (`project_limits`: get_limits(s, project_id), if the caller has them)."""
    if project_limits is None:
        project_limits = get_limits(s, project_id)
    allowed = project_limits['metadata_items']
    if 0 <= allowed < count:
        raise MetadataLimitExceeded(allowed=allowed)


def check_injected_files(s: orm.Session, project_id: str, user_id: str,
                         files: list[tuple[str, str]],
                         project_limits: dict[str, int] | None = None) -> None:
    """403 if personality files break the injected_files limits (Nova's order: the
    count, then the longest path, then the longest content, its base64 text)."""
    if not files:
        return
    limits = get_limits(s, project_id, user_id, project_limits)
    allowed = limits['injected_files']
    if 0 <= allowed < len(files):
        raise OnsetFileLimitExceeded()
    allowed = limits['injected_file_path_bytes']
    if 0 <= allowed < max(len(path) for path, _ in files):
        raise OnsetFilePathLimitExceeded(allowed=allowed)
    allowed = limits['injected_file_content_bytes']
    if 0 <= allowed < max(len(contents) for _, contents in files):
        raise OnsetFileContentLimitExceeded(allowed=allowed)
