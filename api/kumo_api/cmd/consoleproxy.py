"""kumo-consoleproxy: the websocket proxy of remote consoles (kumo_api.console_proxy).

Serves the console types enabled in its configuration ([serial_console] enabled,
[vnc] enabled), each on its own port; it needs the database (to check tokens), not
the message bus.
"""
from __future__ import annotations

import sys

from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import service

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def main(argv=None) -> None:
    service.prepare(sys.argv[1:] if argv is None else argv, 'kumo-consoleproxy')
    from kumo_api import console_proxy
    listeners = console_proxy.enabled_listeners()
    if not listeners:
        sys.exit('kumo-consoleproxy: no console type is enabled ([serial_console] '
                 'enabled, [vnc] enabled): nothing to serve')
    try:
        console_proxy.run_forever(listeners)
    except OSError as exc:
        sys.exit(f'kumo-consoleproxy: cannot listen: {exc}')
    except KeyboardInterrupt:
        pass
