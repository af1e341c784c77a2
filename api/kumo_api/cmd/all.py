"""kumo-all: every Kumo service in one process, for labs and `make run`.

API, conductor, scheduler and N compute agents share one process and talk through
oslo.messaging (in-process `fake://` by default, or any transport_url). Agents are
named compute1..computeN, each with its own host IP from 127.0.1.0/24.
"""
from __future__ import annotations

import os
import sys
import threading

from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import rpc, service

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

cli_opts = [
    cfg.IntOpt('computes', default=1, min=0, help='Compute agents to run.'),
    cfg.PortOpt('port', help='API port (overrides [api] listen_port).'),
]


def start_computes(count: int) -> list:
    from kumo_compute.cmd import ComputeAgent
    agents = []
    for n in range(1, count + 1):
        host = f'compute{n}'
        agent = ComputeAgent(host, f'127.0.1.{n}', CONF.cell_name,
                             os.path.join(CONF.state_path, 'computes', host))
        agents.append(agent)
    # Register concurrently: each registration is an RPC call to the conductor.
    threads = [threading.Thread(target=a.start) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return agents


def main(argv=None) -> None:
    CONF.register_cli_opts(cli_opts)
    CONF.set_default('transport_url', 'fake://')
    service.prepare(sys.argv[1:] if argv is None else argv, 'kumo-all')
    rpc.init()
    from kumo_api.cmd import api as api_cmd
    from kumo_conductor import cmd as conductor_cmd
    from kumo_scheduler import cmd as scheduler_cmd

    conductor_cmd.start()
    scheduler_cmd.start()
    agents = start_computes(CONF.computes)
    port = CONF.port or CONF.api.listen_port
    endpoint = f'http://{CONF.api.listen}:{port}'
    print(f'Kumo is up: compute API at {endpoint}/v2.1 '
          f'({len(agents)} compute agent(s), driver {CONF.compute.virt_driver}, '
          f'database {CONF.database.connection.split("://")[0]}, '
          f'messaging {CONF.transport_url.split("://")[0] if CONF.transport_url else "?"})',
          flush=True)
    print('Try:\n'
          f"  curl -s -H 'X-Auth-Token: admin:admin' {endpoint}/v2.1/images\n"
          f"  curl -s -H 'X-Auth-Token: admin:admin' -H 'Content-Type: application/json' "
          f"-d '{{\"server\": {{\"name\": \"vm1\", \"flavorRef\": \"1\", \"imageRef\": "
          f"\"155d900f-4e14-4e4c-a73d-069cbf4541e6\", \"networks\": \"auto\"}}}}' "
          f"-H 'OpenStack-API-Version: compute 2.100' {endpoint}/v2.1/servers", flush=True)
    api_cmd.serve(CONF.api.listen, port)
