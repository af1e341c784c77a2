"""The fault a failed build leaves on its server, in Nova's words.

A client reads `fault.message` (and admins `fault.details`) to learn why a server went
to ERROR; Nova's texts are what tools match on, so Kumo gives the same ones for the
same situations (nova conductor build_instances, scheduler utils populate_retry,
compute _do_build_and_run_instance):

* no host at the first scheduling: NoValidHost, "No valid host was found. There are
  not enough hosts available.", followed by the one-line summary of Kumo's scheduling
  report ("0 of 3 hosts: 3 removed by RamFilter"): Nova's words stay first for the
  tools that match on them, and the user learns why (the whole report: GET
  /servers/{id}/scheduling-report; the scheduler's traceback: the details).
* a reschedule that finds no host left: MaxRetriesExceeded, "Exceeded maximum number
  of retries. Exhausted all hosts available for retrying build failures for instance
  <uuid>." (Nova has run out of the alternates its first scheduling picked.)
* the build failed on its last allowed attempt ([scheduler] max_attempts > 1):
  MaxRetriesExceeded, "... Exceeded max scheduling attempts <n> for instance <uuid>.
  Last exception: <the host's error>".
* rescheduling disabled (max_attempts = 1): the host's error as it is.
* a failure the host says no other host would mend: "Build of instance <uuid>
  aborted: <error>" (BuildAbortException).

Each is code 500, so the details are a traceback, as Nova's: the agent's for the
last two, else that of the exception the conductor raised.
"""
from __future__ import annotations

import traceback

from kumo_common import exceptions


def traceback_of(exc: Exception) -> str:
    """The traceback of `exc` raised here (no chained context), as Nova stores for an
    exception its conductor raised and caught."""
    try:
        raise exc from None
    except type(exc):
        return traceback.format_exc()


def no_valid_host(scheduler_said: exceptions.NoValidHost) -> exceptions.NoValidHost:
    """The fault for the scheduler's NoValidHost, whose reason is its report's
    one-line summary. Its text, not str(): one raised across RPC also holds the
    scheduler's traceback (oslo.messaging appends it), which is no user's business."""
    text = scheduler_said.args[0] if scheduler_said.args else str(scheduler_said)
    prefix = exceptions.NoValidHost.message.split('%')[0]
    summary = text[len(prefix):].strip() if text.startswith(prefix) else ''
    reason = exceptions.NOT_ENOUGH_HOSTS
    return exceptions.NoValidHost(reason=f'{reason} {summary}' if summary else reason)


def hosts_exhausted(uuid: str) -> exceptions.MaxRetriesExceeded:
    return exceptions.MaxRetriesExceeded(
        reason=f'Exhausted all hosts available for retrying build failures for '
               f'instance {uuid}.')


def attempts_exceeded(uuid: str, max_attempts: int,
                      last_error: str | None) -> exceptions.MaxRetriesExceeded:
    return exceptions.MaxRetriesExceeded(
        reason=f'Exceeded max scheduling attempts {max_attempts} for instance {uuid}. '
               f'Last exception: {last_error}')


def aborted(uuid: str, error: str | None) -> str:
    return f'Build of instance {uuid} aborted: {error}'
