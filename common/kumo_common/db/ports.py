"""Ports as the network service and server creates see them: visibility, look-ups by
fixed IP, and giving a port made beforehand to a server (reserve, then bind)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models

# A port is free when no device holds it; Neutron writes '' where Kumo once wrote NULL.
_FREE = sa.or_(models.Port.device_id.is_(None), models.Port.device_id == '')


def visible_to(project_id: str | None, is_admin: bool):
    """Ports a caller may see: admins all, others their project's."""
    if is_admin:
        return sa.true()
    return models.Port.project_id == project_id


def get_visible(session: orm.Session, port_id: str, project_id: str | None,
                is_admin: bool) -> models.Port:
    port = session.scalars(sa.select(models.Port).where(
        models.Port.id == port_id, visible_to(project_id, is_admin))).first()
    if port is None:
        raise exceptions.PortNotFound(port_id=port_id)
    return port


def fixed_ip_clause(ip_address: str | None = None, subnet_id: str | None = None,
                    ip_address_substr: str | None = None):
    """Ports having a fixed IP that matches every given part (Neutron's
    `fixed_ips=ip_address=...`, `subnet_id=...`, `ip_address_substr=...`)."""
    where = [models.IPAllocation.port_id == models.Port.id]
    if ip_address is not None:
        where.append(models.IPAllocation.ip_address == ip_address)
    if subnet_id is not None:
        where.append(models.IPAllocation.subnet_id == subnet_id)
    if ip_address_substr is not None:
        # A LIKE pattern with the wildcards of the value escaped: a plain substring.
        escaped = (ip_address_substr.replace('\\', '\\\\').replace('%', '\\%')
                   .replace('_', '\\_'))
        where.append(models.IPAllocation.ip_address.like(f'%{escaped}%', escape='\\'))
    return sa.exists().where(*where)


def reserve(session: orm.Session, port_id: str, instance_uuid: str) -> bool:
    """Give a free port to a server being created (a conditional UPDATE, so two
    servers cannot take one port). Returns False if the port is in use."""
    result = session.execute(sa.update(models.Port).where(
        models.Port.id == port_id, _FREE).values(
        device_id=instance_uuid, device_owner='compute:nova', updated_at=models.utcnow())
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def bind(session: orm.Session, port_id: str, instance_uuid: str,
         host: str | None) -> models.Port:
    """Bind a port reserved for (or still free for) the instance to its host.

    PortInUse if another device took it meanwhile (e.g. after a reschedule freed it).
    """
    result = session.execute(sa.update(models.Port).where(
        models.Port.id == port_id,
        sa.or_(_FREE, models.Port.device_id == instance_uuid)).values(
        device_id=instance_uuid, device_owner='compute:nova', status='ACTIVE',
        binding_host_id=host, updated_at=models.utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        if session.get(models.Port, port_id) is None:
            raise exceptions.PortNotFound(port_id=port_id)
        raise exceptions.PortInUse(port_id=port_id)
    port = session.get(models.Port, port_id)
    session.refresh(port)
    port.fixed_ips  # loaded now: the caller reads them after the transaction  # noqa: B018
    return port


def delete(session: orm.Session, port: models.Port) -> None:
    session.delete(port)
