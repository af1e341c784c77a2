"""The conductor's RPC echo of every compute agent.

A heartbeat says the agent's process runs and can cast; the echo says it consumes
and answers RPC right now (an agent wedged with its RPC server stuck heartbeats on).
Every [conductor] agent_probe_interval, each agent due is claimed (one conductor
probes a given agent per interval, kumo_common.health.claim_probes), pinged with
[conductor] agent_rpc_timeout, and the outcome stored in services.echo_error: a
failed echo makes the service down in os-services, to the scheduler
(ComputeFilter) and in `kumo-manage service health`, which says why. When no agent
answers at all, nothing is recorded: that is the broker or this conductor, and
marking every host down would only turn a short outage into failed builds.
"""
from __future__ import annotations

import concurrent.futures

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import health
from kumo_common.db import session
from kumo_common.rpcapi import health as health_rpcapi

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_WORKERS = 8   # agents probed at once: a dead one costs agent_rpc_timeout


class AgentProber:
    def __init__(self):
        self.client = health_rpcapi.HealthAPI('compute')

    def _echo(self, ctxt, host: str) -> str | None:
        timeout = CONF.conductor.agent_rpc_timeout
        try:
            self.client.ping(ctxt, host, timeout, arg='conductor-probe')
        except messaging.MessagingTimeout:
            return f'no answer within {timeout}s'
        except Exception as exc:  # the transport's error is the reason
            return f'{type(exc).__name__}: {exc}'
        return None

    def run_once(self, ctxt) -> dict[str, str | None]:
        """Probe the agents that are due; {host: error or None}."""
        with session.transaction() as s:
            hosts = health.claim_probes(s, CONF.conductor.agent_probe_interval)
        if not hosts:
            return {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            outcomes = dict(zip(hosts, pool.map(lambda h: self._echo(ctxt, h), hosts),
                                strict=True))
        if len(outcomes) > 1 and all(outcomes.values()):
            # No agent answered: more likely this conductor's messaging (or the
            # broker) than every host at once. Their heartbeats still decide.
            LOG.warning('No compute agent answered its RPC echo (%s); not marking them '
                        'down on that alone', next(iter(outcomes.values())))
            return outcomes
        with session.transaction() as s:
            for host, error in outcomes.items():
                if health.record_echo(s, host, error):
                    if error:
                        LOG.warning('Compute agent %s failed its RPC echo (%s): down',
                                    host, error)
                    else:
                        LOG.info('Compute agent %s answers its RPC echo again', host)
        return outcomes
