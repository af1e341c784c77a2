"""kumo-image-api and kumo-network-api: Kumo's own image service (a Glance v2 subset,
127.0.0.1:9292) and network service (a Neutron v2.0 subset, 127.0.0.1:9696), for
deployments without Glance or Neutron. kumo-all runs both in-process (start())."""
from __future__ import annotations

import dataclasses
import importlib
import sys
import threading

import waitress
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import image, service

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

@dataclasses.dataclass
class SideService:
    """One of the two: its name, option groups and app factory."""
    name: str               # e.g. 'image'
    title: str              # for logs and the kumo-all banner
    group: str              # its [<group>] listen/listen_port/threads
    endpoint_group: str     # the [<group>] endpoint that may point elsewhere
    app_module: str         # the module whose create_app() builds its WSGI app

    def app(self):
        return importlib.import_module(self.app_module).create_app()

    @property
    def conf(self):
        return getattr(CONF, self.group)

    def url(self) -> str:
        return f'http://{self.conf.listen}:{self.conf.listen_port}'

    def endpoint(self) -> str:
        """Where Kumo and its clients reach this API: the configured endpoint, else
        the local service."""
        return (getattr(CONF, self.endpoint_group).endpoint or self.url()).rstrip('/')

    def runs_here(self) -> bool:
        """Whether this deployment uses the local service: no endpoint configured, or
        one naming the local service's own address and port."""
        configured = getattr(CONF, self.endpoint_group).endpoint
        if not configured:
            return True
        # The rule kumo_common.image.external() reads images by, too.
        return image.names_local_service(configured, self.conf.listen,
                                         self.conf.listen_port)

    def make_server(self):
        """A waitress server bound to the service's address (binding errors surface
        here, in the caller's thread)."""
        return waitress.create_server(
            self.app(), host=self.conf.listen, port=self.conf.listen_port,
            threads=self.conf.threads, ident=f'kumo-{self.name}-api',
            # Uploads stream into the file store; waitress must not cap them first.
            max_request_body_size=max(CONF.image_service.image_size_cap, 1 << 30))


IMAGE = SideService('image', 'image API', 'image_service', 'glance',
                    'kumo_api.image_service.app')
NETWORK = SideService('network', 'network API', 'network_service', 'neutron',
                      'kumo_api.network_service.app')


def start(side: SideService) -> threading.Thread:
    """Serve `side` from a daemon thread of this process (kumo-all)."""
    server = side.make_server()
    thread = threading.Thread(target=server.run, name=f'kumo-{side.name}-api', daemon=True)
    thread.start()
    LOG.info('%s listening on %s', side.title, side.url())
    return thread


def _main(side: SideService, argv) -> None:
    service.prepare(sys.argv[1:] if argv is None else argv, f'kumo-{side.name}-api')
    server = side.make_server()
    LOG.info('%s listening on %s', side.title, side.url())
    server.run()


def image_main(argv=None) -> None:
    _main(IMAGE, argv)


def network_main(argv=None) -> None:
    _main(NETWORK, argv)
