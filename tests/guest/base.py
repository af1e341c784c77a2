"""What the real-guest tests share: the stack (separate Kumo processes on RabbitMQ and
PostgreSQL, one compute agent with the libvirt driver and virt_type qemu), the test
guest imported as the seeded image, a 128 MiB flavor, and helpers that look at the
guests through the API, virsh and their serial console logs.

Needs libvirtd at qemu:///system (`make libvirt`), RabbitMQ and PostgreSQL
(tools/ensure-services.sh) and the test guest (tools/build-test-guest.py; built on
the fly into .kumo/guest when missing, or KUMO_TEST_GUEST_DIR). When one is missing
the tests skip, or fail with CI=true.
"""
from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import testtools
from testtools import content

from tests.fixtures import database, rabbit, stack

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUEST_DIR = os.environ.get('KUMO_TEST_GUEST_DIR') or os.path.join(REPO, '.kumo', 'guest')
URI = 'qemu:///system'
FLAVOR = {'name': 'kumo.guest', 'id': 'kumo-guest-128', 'ram': 128, 'vcpus': 1,
          'disk': 1, 'OS-FLV-EXT-DATA:ephemeral': 1, 'swap': 64}
HOST = 'compute1'
AGENT = f'kumo-compute@{HOST}'
# Guests boot in a few seconds under TCG; allow for a loaded machine.
BOOT_TIMEOUT = 90
STATE_TIMEOUT = 60


def in_ci() -> bool:
    return os.environ.get('CI', '').lower() == 'true'


def virsh(*args: str, check: bool = True) -> str:
    proc = subprocess.run(['virsh', '-c', URI, *args], capture_output=True, text=True,
                          timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f'virsh {" ".join(args)} failed: {proc.stderr.strip()}')
    return proc.stdout.strip()


def domstate(uuid_: str) -> str:
    """`virsh domstate` of a domain ('' when there is none)."""
    return virsh('domstate', uuid_, check=False)


def domain_uuids() -> set[str]:
    return set(virsh('list', '--all', '--uuid').split())


def libvirt_problem() -> str | None:
    from kumo_compute import virt
    return virt.probe_libvirt(URI)


def ensure_guest() -> str | None:
    """Build the test guest if it is not there; None when ready, else why not."""
    if os.path.exists(os.path.join(GUEST_DIR, 'manifest.json')):
        return None
    proc = subprocess.run([sys.executable, os.path.join(REPO, 'tools',
                                                        'build-test-guest.py'),
                           '--output', GUEST_DIR], capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        return f'cannot build the test guest: {proc.stdout}{proc.stderr}'
    return None


class GuestStack(stack.ProcessStack):
    """ProcessStack whose agent runs real guests, and can be killed and restarted."""

    def __init__(self, computes: int = 1, extra_config: dict | None = None,
                 host_config: dict[str, dict] | None = None):
        """`computes` agents (compute1..N), all on the one libvirtd unless
        `host_config` says otherwise; `extra_config` adds to the configuration every
        service reads, `host_config` (host -> sections) to one agent's own."""
        self.host_config = host_config or {}
        config = {
            'compute': {'virt_driver': 'libvirt'},
            'libvirt': {'virt_type': 'qemu', 'wait_soft_reboot_seconds': 30},
            'DEFAULT': {'sync_power_state_interval': 5, 'shutdown_timeout': 30},
        }
        for section, values in (extra_config or {}).items():
            config.setdefault(section, {}).update(values)
        super().__init__('postgresql', computes=computes, extra_config=config)

    def _make_dir(self) -> None:
        super()._make_dir()
        # QEMU runs as libvirt-qemu: it must be able to reach the instances' files.
        os.chmod(self.dir, 0o755)

    def _compute_config(self, n: int, host: str) -> str:
        path = super()._compute_config(n, host)
        if self.host_config.get(host):
            # Appended: oslo.config reads a section again where it appears again, the
            # later value winning (so also when start_agent rewrites the file).
            with open(path, 'a') as f:
                f.write('\n' + stack._ini(self.host_config[host]))
        return path

    def instance_dir(self, server_id: str, host: str | None = None) -> str:
        """The guest's directory on `host` (default: whichever agent has it, else
        compute1)."""
        hosts = [host] if host else self.compute_hosts
        for candidate in hosts:
            path = os.path.join(self.dir, 'state', candidate, 'instances', server_id)
            if os.path.isdir(path):
                return path
        return os.path.join(self.dir, 'state', hosts[0], 'instances', server_id)

    def kill_agent(self, host: str = HOST) -> None:
        proc = self.processes[f'kumo-compute@{host}']
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def start_agent(self, host: str = HOST) -> None:
        self._start_service(f'kumo-compute@{host}',
                            self._compute_config(self.compute_hosts.index(host) + 1, host),
                            binary='kumo-compute')

    def manage(self, *args: str) -> str:
        proc = subprocess.run([stack.executable('kumo-manage'), '--config-file',
                               self.config_file, *args], capture_output=True, text=True,
                              timeout=120)
        if proc.returncode != 0:
            raise stack.StackError(f'kumo-manage {" ".join(args)}: {proc.stderr}')
        return proc.stdout

    def remove_guests(self) -> None:
        """Destroy every domain whose files are in this stack's directory."""
        for uuid_ in domain_uuids():
            xml = virsh('dumpxml', uuid_, check=False)
            if self.dir and self.dir in xml:
                virsh('destroy', uuid_, check=False)
                virsh('undefine', uuid_, '--managed-save', check=False)


class GuestTestCase(testtools.TestCase):
    """One GuestStack per class, with the guest image and flavor in place."""

    stack: GuestStack | None = None
    problem: str | None = None
    # Agents of the class's stack, what its configuration adds (to every service's,
    # and by host to an agent's own), and the flavors its tests need besides FLAVOR.
    COMPUTES = 1
    EXTRA_CONFIG: dict | None = None
    HOST_CONFIG: dict[str, dict] | None = None
    FLAVORS: tuple[dict, ...] = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack = None
        cls.problem = (libvirt_problem() or rabbit.unavailable_reason()
                       or (None if database.backend_available('postgresql')
                           else 'PostgreSQL is not answering') or ensure_guest())
        if cls.problem:
            return
        new = GuestStack(cls.COMPUTES, cls.EXTRA_CONFIG, cls.HOST_CONFIG)
        new.start()
        try:
            new.manage('seed', '--guest-dir', GUEST_DIR)
            for flavor in (FLAVOR, *cls.FLAVORS):
                response = new.client.post('/v2.1/flavors', json={'flavor': flavor})
                if response.status_code != 200:
                    raise stack.StackError(f'flavor create: {response.status_code} '
                                           f'{response.text}')
        except BaseException:
            new.cleanUp()
            raise
        cls.stack = new

    @classmethod
    def tearDownClass(cls):
        if cls.stack is not None:
            try:
                cls.stack.remove_guests()
            finally:
                cls.stack.cleanUp()
                cls.stack = None
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self.problem:
            if in_ci():
                self.fail(f'{self.problem} (CI=true: real guests must run)')
            self.skipTest(self.problem)
        self.assertIsNotNone(self.stack, 'the stack did not start')
        self.client = self.stack.client
        self.addOnException(self._attach_logs)

    def _attach_logs(self, _exc_info) -> None:
        if self.stack is not None:
            self.addDetail('stack-logs', content.text_content(self.stack.diagnostics(80)))

    # --- helpers ---------------------------------------------------------------------
    def boot(self, name: str, user_data: str | None = None, **fields) -> str:
        if user_data is not None:
            fields['user_data'] = base64.b64encode(user_data.encode()).decode()
        booted = self.client.boot(name, flavor=FLAVOR['id'], **fields)
        self.addCleanup(self._forget, booted.id)
        return booted.id

    def define_domain(self, name: str, domain_uuid: str, metadata: str = '') -> None:
        """A stopped domain of our own making on the shared libvirtd (a stray, or
        another cloud's guest when `metadata` tags it), undefined after the test."""
        path = os.path.join(self.stack.dir, f'{name}-{domain_uuid}.xml')
        with open(path, 'w') as f:
            f.write(f"<domain type='qemu'><name>{name}</name><uuid>{domain_uuid}</uuid>"
                    f"{metadata}<memory unit='MiB'>32</memory>"
                    "<os><type arch='x86_64'>hvm</type></os></domain>\n")
        virsh('define', path)
        self.addCleanup(virsh, 'undefine', domain_uuid, check=False)

    def _forget(self, server_id: str) -> None:
        """Whatever the test did, leave no guest behind."""
        self.client.delete_path(f'/v2.1/servers/{server_id}')
        virsh('destroy', server_id, check=False)
        virsh('undefine', server_id, '--managed-save', check=False)

    def action(self, server_id: str, body: dict) -> None:
        response = self.client.post(f'/v2.1/servers/{server_id}/action', json=body)
        self.assertEqual(202, response.status_code, response.text)

    def wait_server(self, server_id: str, status: str, power_state: int | None = None,
                    timeout: float = STATE_TIMEOUT) -> dict:
        """Until the API shows `status` with no task (and `power_state`, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            server = self.client.show(server_id)
            if (server['status'] == status and server['OS-EXT-STS:task_state'] is None
                    and power_state in (None, server['OS-EXT-STS:power_state'])):
                return server
            if server['status'] == 'ERROR' and status != 'ERROR':
                self.fail(f'{server_id} went to ERROR: {server.get("fault")}')
            if time.monotonic() > deadline:
                self.fail(f'{server_id} is {server["status"]} (task '
                          f'{server["OS-EXT-STS:task_state"]}, power '
                          f'{server["OS-EXT-STS:power_state"]}) after {timeout}s, '
                          f'not {status}/{power_state}')
            time.sleep(0.2)

    def wait_domstate(self, server_id: str, prefix: str, timeout: float = STATE_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            state = domstate(server_id)
            if state.startswith(prefix):
                return state
            if time.monotonic() > deadline:
                self.fail(f'domain {server_id} is {state!r}, not {prefix!r}')
            time.sleep(0.2)

    def dir_on(self, server_id: str, host: str) -> str:
        """The guest's directory on `host`, whether or not it is there."""
        return self.stack.instance_dir(server_id, host)

    def console(self, server_id: str, host: str | None = None) -> str:
        """The guest's console log (on `host`; default: whichever agent has it)."""
        try:
            with open(os.path.join(self.stack.instance_dir(server_id, host), 'console.log'),
                      errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def wait_console(self, server_id: str, pattern: str, count: int = 1,
                     timeout: float = BOOT_TIMEOUT, host: str | None = None) -> str:
        """Until the serial console (on `host`) shows `pattern` (a regex) `count`
        times."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.console(server_id, host)
            if len(re.findall(pattern, text, re.M)) >= count:
                return text
            if time.monotonic() > deadline:
                where = f' on {host}' if host else ''
                self.fail(f'console of {server_id}{where} never showed {pattern!r} '
                          f'x{count}:\n{text[-3000:]}')
            time.sleep(0.2)

    def keypair(self) -> tuple[str, str]:
        """A new keypair (name, public key) imported through the API."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
        public = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
        name = f'key-{uuid.uuid4().hex[:8]}'
        response = self.client.post('/v2.1/os-keypairs', json={
            'keypair': {'name': name, 'public_key': public}})
        self.assertIn(response.status_code, (200, 201), response.text)
        return name, public
