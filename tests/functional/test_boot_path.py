"""The path of one server through a whole running Kumo, as a client sees it.

Three stacks, one per TestCase class and shared by its tests (started in setUpClass;
.stestr.conf keeps a class in one worker):

* kumo-api, kumo-conductor, kumo-scheduler and two kumo-compute agents as separate
  OS processes on RabbitMQ and PostgreSQL;
* the same on RabbitMQ and MariaDB;
* one kumo-all process (SQLite, in-process messaging).

Each boots a server to ACTIVE, lists it, deletes it and finds it gone; proves that
bad input is refused in Nova's error format without writing anything; and (the
process stacks) finds one boot's request id in the log of every service that
handled it.
"""
from __future__ import annotations

import ipaddress
import uuid

import testtools
from testtools import content

from tests.fixtures import database, rabbit, stack

PRIVATE_NET = ipaddress.ip_network('10.0.0.0/24')
# Rows a create writes; a refused create must leave every count unchanged.
CREATE_TABLES = ('instances', 'request_specs', 'instance_actions', 'ports', 'allocations')


class _StackTestCase(testtools.TestCase):
    """Starts cls.make_stack() once per class; attaches its logs to failed tests."""

    stack: stack._Stack | None = None

    @classmethod
    def unavailable(cls) -> bool:
        """True if a service the stack needs is down (setUp then skips or fails)."""
        return False

    @classmethod
    def make_stack(cls) -> stack._Stack:
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack = None
        if not cls.unavailable():
            new = cls.make_stack()
            new.start()  # cleans up after itself if it fails
            cls.stack = new

    @classmethod
    def tearDownClass(cls):
        if cls.stack is not None:
            cls.stack.cleanUp()
            cls.stack = None
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.require()
        self.assertIsNotNone(self.stack, 'the stack did not start')
        self.client = self.stack.client
        self.addOnException(self._attach_logs)

    def require(self) -> None:
        """Skip (or fail, with CI=true) if a service the stack needs is down."""

    def _attach_logs(self, _exc_info) -> None:
        if self.stack is not None:
            self.addDetail('stack-logs', content.text_content(self.stack.diagnostics(60)))

    # --- helpers ---------------------------------------------------------------------------
    def row_counts(self) -> dict[str, int]:
        return self.stack.count_rows(*CREATE_TABLES)

    def assertFault(self, response, code: int, name: str, message: str | None = None):
        self.assertEqual(code, response.status_code, response.text)
        self.assertEqual('application/json', response.headers['Content-Type'].split(';')[0])
        body = response.json()
        self.assertEqual([name], list(body), body)
        self.assertEqual(code, body[name]['code'])
        self.assertIsInstance(body[name]['message'], str)
        if message is not None:
            self.assertEqual(message, body[name]['message'])
        self.assertTrue(response.headers.get('x-openstack-request-id', '').startswith('req-'))
        return body[name]['message']

    def assertCreateRefused(self, server: dict | None = None, data: str | None = None,
                            code: int = 400, message: str | None = None) -> str:
        """POST /servers is refused with a badRequest and writes no row anywhere."""
        before = self.row_counts()
        if data is not None:
            response = self.client.post('/v2.1/servers', data=data,
                                        headers={'Content-Type': 'application/json'})
        else:
            response = self.client.post('/v2.1/servers', json={'server': server})
        text = self.assertFault(response, code, 'badRequest', message)
        self.assertEqual(before, self.row_counts())
        return text

    @staticmethod
    def server_body(**fields) -> dict:
        return {'name': 'bad', 'flavorRef': '1', 'imageRef': stack.IMAGE_ID,
                'networks': 'auto', **fields}


class _BootPathTests:
    """What every stack must do (mixed into the concrete classes below)."""

    def test_boot_list_delete(self):
        booted = self.client.boot('vm-path')
        self.assertTrue(booted.request_id.startswith('req-'), booted.request_id)
        server = self.client.wait_status(booted.id, 'ACTIVE', timeout=30)

        self.assertEqual(booted.id, server['id'])
        self.assertEqual('vm-path', server['name'])
        self.assertEqual(1, server['OS-EXT-STS:power_state'])
        self.assertEqual('active', server['OS-EXT-STS:vm_state'])
        self.assertIsNone(server['OS-EXT-STS:task_state'])
        self.assertTrue(server['OS-SRV-USG:launched_at'])
        self.assertIn(server['OS-EXT-SRV-ATTR:host'], self.stack.compute_hosts)
        addresses = [ipaddress.ip_address(a['addr'])
                     for net in server['addresses'].values() for a in net]
        self.assertTrue(addresses, server['addresses'])
        self.assertTrue(all(a in PRIVATE_NET for a in addresses), addresses)
        self.assertIn('private', server['addresses'])

        listed = self.client.list_servers()
        self.assertIn(booted.id, [s['id'] for s in listed])
        detailed = {s['id']: s for s in self.client.list_servers(detail=True)}
        self.assertIn(booted.id, detailed)
        self.assertEqual('ACTIVE', detailed[booted.id]['status'])
        self.assertEqual(server['OS-EXT-SRV-ATTR:host'],
                         detailed[booted.id]['OS-EXT-SRV-ATTR:host'])

        self.client.delete(booted.id)
        self.client.wait_gone(booted.id, timeout=30)
        self.assertFault(self.client.get(f'/v2.1/servers/{booted.id}'), 404, 'itemNotFound',
                         f'Instance {booted.id} could not be found.')
        self.assertNotIn(booted.id, [s['id'] for s in self.client.list_servers()])
        self.assertNotIn(booted.id, [s['id'] for s in self.client.list_servers(detail=True)])

    def test_malformed_json(self):
        self.assertCreateRefused(data='{"server": {"name": "vm", ', code=400,
                                 message='Malformed request body')

    def test_unknown_flavor(self):
        self.assertCreateRefused(self.server_body(flavorRef='99999'))

    def test_unknown_image(self):
        self.assertCreateRefused(self.server_body(imageRef=str(uuid.uuid4())))

    def test_missing_server(self):
        missing = str(uuid.uuid4())
        before = self.row_counts()
        message = f'Instance {missing} could not be found.'
        self.assertFault(self.client.get(f'/v2.1/servers/{missing}'), 404, 'itemNotFound',
                         message)
        self.assertFault(self.client.delete_path(f'/v2.1/servers/{missing}'), 404,
                         'itemNotFound', message)
        self.assertEqual(before, self.row_counts())


class _ProcessStackTests(_BootPathTests):
    """What the separate-process stacks must do besides (a mixin, like _BootPathTests)."""

    db_backend: str = ''

    @classmethod
    def unavailable(cls) -> bool:
        return (not database.backend_available(cls.db_backend)
                or rabbit.unavailable_reason() is not None)

    @classmethod
    def make_stack(cls) -> stack.ProcessStack:
        return stack.ProcessStack(cls.db_backend, computes=2)

    def require(self) -> None:
        database.require_backend(self, self.db_backend)
        rabbit.require_rabbit(self)

    def test_request_id_in_every_service_log(self):
        booted = self.client.boot('vm-logs')
        server = self.client.wait_status(booted.id, 'ACTIVE', timeout=30)
        host = server['OS-EXT-SRV-ATTR:host']
        for name in ('kumo-api', 'kumo-conductor', 'kumo-scheduler', f'kumo-compute@{host}'):
            log = self.stack.read_log(name)
            self.assertIn(booted.request_id, log,
                          f'request id {booted.request_id} not in {name}\'s log '
                          f'{self.stack.log_path(name)}')
            # Its lines are about this server (not a stray id in some other line).
            lines = [line for line in log.splitlines() if booted.request_id in line]
            self.assertTrue(any(booted.id in line for line in lines),
                            f'{name}: no line with {booted.request_id} names {booted.id}:'
                            f'\n' + '\n'.join(lines))
        # The agent that did not build it never heard of the request.
        for other in set(self.stack.compute_hosts) - {host}:
            self.assertNotIn(booted.request_id, self.stack.read_log(f'kumo-compute@{other}'))
        self.client.delete(booted.id)
        self.client.wait_gone(booted.id)


class TestBootPathPostgreSQL(_ProcessStackTests, _StackTestCase):
    """Separate processes on RabbitMQ and PostgreSQL."""
    db_backend = 'postgresql'


class TestBootPathMariaDB(_ProcessStackTests, _StackTestCase):
    """Separate processes on RabbitMQ and MariaDB."""
    db_backend = 'mysql'


class TestBootPathAllInOne(_BootPathTests, _StackTestCase):
    """kumo-all: one process, SQLite and in-process messaging."""

    @classmethod
    def make_stack(cls) -> stack.AllInOneStack:
        return stack.AllInOneStack(computes=2)
