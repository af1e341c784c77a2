"""Request context: who is asking, in which project, under which request id.

It travels with every RPC message (see kumo_common.rpc) so that the request id of one
API call shows in the log lines of every service that handles it.
"""
from __future__ import annotations

from oslo_context import context


class RequestContext(context.RequestContext):
    """oslo.context's context plus the few things Kumo needs to carry."""

    def __init__(self, *args, read_deleted: str = 'no', **kwargs):
        super().__init__(*args, **kwargs)
        # 'no', 'yes' or 'only', as Nova: whether queries see soft-deleted rows.
        self.read_deleted = read_deleted

    @property
    def is_admin_role(self) -> bool:
        return 'admin' in (self.roles or [])

    def to_dict(self) -> dict:
        values = super().to_dict()
        values['read_deleted'] = self.read_deleted
        return values

    @classmethod
    def from_dict(cls, values: dict, **kwargs) -> RequestContext:
        kwargs.setdefault('read_deleted', values.get('read_deleted', 'no'))
        return super().from_dict(values, **kwargs)

    def elevated(self) -> RequestContext:
        """A copy with admin rights, for internal work done on the caller's behalf."""
        ctx = self.from_dict(self.to_dict(), overwrite=False)
        ctx.is_admin = True
        if 'admin' not in ctx.roles:
            ctx.roles = list(ctx.roles) + ['admin']
        return ctx


def get_admin_context(overwrite: bool = False) -> RequestContext:
    """Context for a service's own work (periodic tasks, startup)."""
    return RequestContext(user_id=None, project_id=None, is_admin=True,
                          roles=['admin'], overwrite=overwrite)
