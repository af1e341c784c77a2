"""The API's RPC clients, made once per process (a client holds its transport)."""
from __future__ import annotations

import contextlib

import oslo_messaging as messaging

from kumo_api import errors
from kumo_common.rpcapi import compute as compute_rpcapi
from kumo_common.rpcapi import conductor as conductor_rpcapi
from kumo_common.rpcapi import scheduler as scheduler_rpcapi

_CONDUCTOR: conductor_rpcapi.ConductorAPI | None = None
_COMPUTE: compute_rpcapi.ComputeAPI | None = None
_SCHEDULER: scheduler_rpcapi.SchedulerAPI | None = None


def conductor() -> conductor_rpcapi.ConductorAPI:
    global _CONDUCTOR
    if _CONDUCTOR is None:
        _CONDUCTOR = conductor_rpcapi.ConductorAPI()
    return _CONDUCTOR


def compute() -> compute_rpcapi.ComputeAPI:
    global _COMPUTE
    if _COMPUTE is None:
        _COMPUTE = compute_rpcapi.ComputeAPI()
    return _COMPUTE


def scheduler() -> scheduler_rpcapi.SchedulerAPI:
    """Only for the admin dry run; builds go through the conductor."""
    global _SCHEDULER
    if _SCHEDULER is None:
        _SCHEDULER = scheduler_rpcapi.SchedulerAPI()
    return _SCHEDULER


@contextlib.contextmanager
def agent_answer(instance_uuid: str, what: str):
    """Around a call to a server's compute agent: an agent that does not answer, or
    fails, is a 409 (the server is there; try again), naming `what` was asked."""
    try:
        yield
    except messaging.MessagingTimeout as exc:
        raise errors.Conflict(f'The compute agent of instance {instance_uuid} did not '
                              'answer; try again later.') from exc
    except messaging.RemoteError as exc:
        raise errors.Conflict(f'Could not get the {what} of instance {instance_uuid}: '
                              f'{exc.value}') from exc


def reset() -> None:
    """Forget the clients (tests replace the transport between clouds)."""
    global _CONDUCTOR, _COMPUTE, _SCHEDULER
    _CONDUCTOR = None
    _COMPUTE = None
    _SCHEDULER = None
