"""kumo-consoleproxy's server: websockets in front of guests' consoles, token-checked.

One listener per enabled console type, as Nova's nova-serialproxy and
nova-novncproxy: the serial one on [serial_console] serialproxy_host:serialproxy_port
(6083), the noVNC one on [vnc] novncproxy_host:novncproxy_port (6080). A client
opens a websocket on "/?token=<token>" (the URL the compute API gave it; noVNC opens
the `path` it was given, the same thing). Before the handshake completes the token
is looked up by its hash (kumo_common.db.console_tokens: it must exist, not have
expired, belong to a live server and be of this listener's console type); a bad
token is refused with a 403 and a log line saying why, and never reaches a guest.
Then the proxy connects to the console's host:port (the guest's TCP serial port or
VNC server on its compute host) and relays bytes both ways until either side closes.
"""
from __future__ import annotations

import asyncio
import dataclasses
import http
import threading
from urllib import parse

from oslo_config import cfg
from oslo_log import log as logging
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from kumo_common.db import console_tokens, session

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

READ_SIZE = 65536


@dataclasses.dataclass(frozen=True)
class Listener:
    name: str               # for the logs
    console_types: tuple[str, ...]
    host: str
    port: int


def enabled_listeners() -> list[Listener]:
    """The listeners of the console types enabled in this configuration."""
    listeners = []
    if CONF.serial_console.enabled:
        listeners.append(Listener('serial', ('serial',), CONF.serial_console.serialproxy_host,
                                  CONF.serial_console.serialproxy_port))
    if CONF.vnc.enabled:
        listeners.append(Listener('novnc', ('novnc',), CONF.vnc.novncproxy_host,
                                  CONF.vnc.novncproxy_port))
    return listeners


def token_of(path: str) -> str | None:
    """The token of a request path: "/?token=X" (noVNC may also send "/websockify?
    token=X"); None when there is none."""
    values = parse.parse_qs(parse.urlsplit(path).query).get('token')
    return values[0] if values else None


def _lookup(token: str | None) -> tuple[str, int, str, str] | None:
    """(host, port, console_type, instance_uuid) of a valid token, else None."""
    if not token:
        return None
    with session.reader() as s:
        row = console_tokens.validate(s, token)
        return None if row is None else (row.host, row.port, row.console_type,
                                         row.instance_uuid)


class ConsoleProxy:
    """The websocket servers of `listeners`, on one asyncio loop."""

    def __init__(self, listeners: list[Listener]):
        self.listeners = listeners
        self.servers = []
        self._targets: dict[int, tuple[str, int, str]] = {}   # id(connection) -> target

    async def start(self) -> None:
        for listener in self.listeners:
            server = await serve(
                lambda conn, lst=listener: self._relay(conn, lst),
                listener.host, listener.port,
                process_request=lambda conn, req, lst=listener: self._check(conn, req, lst),
                # noVNC asks for "binary"; a plain client asks for none: both are fine.
                select_subprotocol=lambda conn, offered: (
                    'binary' if 'binary' in offered else None),
                compression=None, max_size=None)
            self.servers.append(server)
            LOG.info('Console proxy (%s) listening on ws://%s:%s/', listener.name,
                     listener.host, listener.port)

    async def _check(self, connection: ServerConnection, request, listener: Listener):
        """Refuse the handshake (403) unless the token is good for this listener."""
        peer = connection.remote_address
        found = await asyncio.to_thread(_lookup, token_of(request.path))
        if found is None:
            LOG.warning('Console connection from %s refused: the token is unknown, '
                        'expired or its server is gone', peer)
            return connection.respond(http.HTTPStatus.FORBIDDEN,
                                      'Invalid or expired console token\n')
        host, port, console_type, instance_uuid = found
        if console_type not in listener.console_types:
            LOG.warning('Console connection from %s refused: the token is for a %s '
                        'console, this proxy serves %s', peer, console_type,
                        listener.name)
            return connection.respond(http.HTTPStatus.FORBIDDEN,
                                      'Invalid console token for this proxy\n')
        self._targets[id(connection)] = (host, port, instance_uuid)
        return None

    async def _relay(self, connection: ServerConnection, listener: Listener) -> None:
        host, port, instance_uuid = self._targets.pop(id(connection))
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            LOG.warning('Console of instance %s: cannot connect to %s:%s: %s',
                        instance_uuid, host, port, exc)
            await connection.close(1011, 'Cannot connect to the console')
            return
        LOG.info('Console (%s) of instance %s: %s connected to %s:%s', listener.name,
                 instance_uuid, connection.remote_address, host, port)

        async def to_guest():
            async for message in connection:
                writer.write(message.encode() if isinstance(message, str) else message)
                await writer.drain()

        async def to_client():
            while data := await reader.read(READ_SIZE):
                await connection.send(data)

        tasks = [asyncio.create_task(to_guest()), asyncio.create_task(to_client())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, ConnectionClosed):
                pass
            await connection.close()
            LOG.info('Console (%s) of instance %s: %s disconnected', listener.name,
                     instance_uuid, connection.remote_address)

    def close(self) -> None:
        for server in self.servers:
            server.close()


def run_forever(listeners: list[Listener]) -> None:
    """Serve until the process ends (blocks): kumo-consoleproxy."""
    async def main():
        proxy = ConsoleProxy(listeners)
        await proxy.start()
        await asyncio.Event().wait()
    asyncio.run(main())


def start_in_thread(listeners: list[Listener]) -> ConsoleProxy:
    """Serve from a daemon thread (kumo-all); returns once listening, or raises what
    stopped it (a port already taken: OSError)."""
    ready = threading.Event()
    outcome: dict = {}

    def run():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        proxy = ConsoleProxy(listeners)
        try:
            loop.run_until_complete(proxy.start())
        except Exception as exc:  # noqa: BLE001  (handed to the starting thread)
            outcome['error'] = exc
            ready.set()
            return
        outcome['proxy'] = proxy
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, name='console-proxy', daemon=True).start()
    ready.wait()
    if 'error' in outcome:
        raise outcome['error']
    return outcome['proxy']


def start_enabled() -> list[str]:
    """kumo-all: the proxy in a thread when a console type is enabled; what runs
    where (nothing when none is)."""
    listeners = enabled_listeners()
    if not listeners:
        return []
    start_in_thread(listeners)
    return [f'Console proxy ({lst.name}) at ws://{lst.host}:{lst.port}/'
            for lst in listeners]
