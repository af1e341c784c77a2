"""kumo-api: serve the compute API with waitress."""
from __future__ import annotations

import gc
import sys

import waitress
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import rpc, service

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def serve(host: str, port: int) -> None:
    """Serve the API on host:port until the process ends (blocks)."""
    from kumo_api import request_limits
    from kumo_api.app import create_app
    app = create_app()
    # waitress buffers whole bodies: its own limit keeps it from reading past ours.
    server = waitress.create_server(app, host=host, port=port, threads=CONF.api.threads,
                                    ident='kumo-api', **request_limits.waitress_options())
    request_limits.use_nova_faults(server)
    # What is loaded by now (modules, mappers, policy rules: some 190,000 objects)
    # lives as long as the process: out of the garbage collector's sight, a full
    # collection, which a page of 1,000 servers triggers every few pages, takes
    # under a millisecond instead of 80-90. (Garbage first collected, not frozen.)
    gc.collect()
    gc.freeze()
    LOG.info('Compute API listening on http://%s:%s/', host, port)
    server.run()


def main(argv=None) -> None:
    service.prepare(sys.argv[1:] if argv is None else argv, 'kumo-api')
    rpc.init()
    service.start_heartbeat(CONF.host, 'kumo-api', 'compute-api')
    serve(CONF.api.listen, CONF.api.listen_port)
