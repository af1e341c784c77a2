"""A running Kumo for client-library tests, and how clients reach it without Keystone.

Each TestCase class gets one ``kumo-all`` process (tests/fixtures/stack.py
AllInOneStack: SQLite, in-process messaging, two fake compute agents) in setUpClass;
.stestr.conf keeps a class in one worker. Each test works in a project of its own
(noauth2 token "<user>:<project>"), so that lists see only what the test made.

Clients authenticate as they would against a Nova with noauth2: keystoneauth1's
token-and-endpoint plugin (``admin_token``) carries the token, and the compute
endpoint is given explicitly, since there is no service catalog.
"""
from __future__ import annotations

import time
import uuid

import testtools
from keystoneauth1 import loading
from keystoneauth1 import session as ks_session
from testtools import content

from tests.fixtures import stack

IMAGE_ID = stack.IMAGE_ID
FLAVOR_ID = '1'
FLAVOR_NAME = 'm1.tiny'
MAX_MICROVERSION = '2.100'
POLL = 0.1      # seconds between polls of a server's status
TIMEOUT = 30    # seconds for any state change with the fake driver


class KumoClientTestCase(testtools.TestCase):
    """One kumo-all per class; a fresh project per test."""

    stack: stack.AllInOneStack | None = None
    # kumo.conf sections this class's kumo-all runs with, on top of the stack's own.
    extra_config: dict[str, dict[str, object]] | None = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack = None
        new = stack.AllInOneStack(computes=2, extra_config=cls.extra_config)
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
        self.assertIsNotNone(self.stack, 'kumo-all did not start')
        self.addOnException(self._attach_logs)
        # Hex like a Keystone project id: it may appear in URLs (/v2.1/{project_id}).
        self.project = uuid.uuid4().hex
        self.user = f'user-{self.project}'
        self.token = f'{self.user}:{self.project}'

    def _attach_logs(self, _exc_info) -> None:
        if self.stack is not None:
            self.addDetail('kumo-all-log', content.text_content(self.stack.diagnostics(80)))

    @property
    def endpoint(self) -> str:
        """The root of the API (the version document)."""
        return self.stack.endpoint

    @property
    def compute_url(self) -> str:
        """The compute endpoint a service catalog would hold."""
        return f'{self.stack.endpoint}/v2.1'

    def session(self, token: str | None = None, endpoint: str | None = None
                ) -> ks_session.Session:
        """A keystoneauth session that sends `token` (default: this test's user and
        project) to `endpoint` (default: the compute endpoint), as
        ``--os-auth-type admin_token`` does."""
        plugin = loading.get_plugin_loader('admin_token').load_from_options(
            endpoint=endpoint or self.compute_url, token=token or self.token)
        return ks_session.Session(auth=plugin)

    def connect(self, token: str | None = None):
        """An openstacksdk Connection on a noauth2 session; the compute endpoint
        given explicitly."""
        import openstack
        conn = openstack.connection.Connection(
            session=self.session(token), compute_endpoint_override=self.compute_url,
            compute_api_version=MAX_MICROVERSION, strict_proxies=True)
        self.addCleanup(conn.close)
        return conn

    def record_requests(self, sess: ks_session.Session) -> list:
        """The requests.Response of every HTTP request `sess` sends from now on."""
        sent: list = []

        def hook(response, *args, **kwargs):
            sent.append(response)
        sess.session.hooks['response'].append(hook)
        return sent

    def wait_for(self, what: str, predicate, timeout: float = TIMEOUT):
        """Poll `predicate` until it returns something true; fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                self.fail(f'Timed out after {timeout}s waiting for {what}')
            time.sleep(POLL)
