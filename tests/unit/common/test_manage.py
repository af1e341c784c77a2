"""kumo-manage, run as the real command against a fresh SQLite database."""
import os
import subprocess
import sys

import sqlalchemy as sa
import testtools
from fixtures import TempDir

BIN = os.path.dirname(sys.executable)


class TestManage(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(TempDir()).path
        self.db = os.path.join(self.dir, 'kumo.sqlite')
        self.conf = os.path.join(self.dir, 'kumo.conf')
        with open(self.conf, 'w') as f:
            f.write(f'[DEFAULT]\nstate_path = {self.dir}\n'
                    f'[database]\nconnection = sqlite:///{self.db}\n')
        self.manage('db', 'sync')

    def manage(self, *args) -> str:
        result = subprocess.run([os.path.join(BIN, 'kumo-manage'), '--config-file',
                                 self.conf, *args], capture_output=True, text=True,
                                timeout=120)
        self.assertEqual(0, result.returncode, result.stderr)
        return result.stdout

    def rows(self, query: str) -> list:
        engine = sa.create_engine(f'sqlite:///{self.db}')
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(sa.text(query))]
        finally:
            engine.dispose()

    def test_create_commands_store_what_they_are_given(self):
        self.manage('flavor', 'create', 'big', '--ram', '2048', '--vcpus', '2',
                    '--disk', '10', '--id', '77')
        self.manage('image', 'import', 'tiny', '--id',
                    '2f0c6a2e-8d5b-4f55-9a38-1f1b2c3d4e5f', '--property', 'architecture=x86_64')
        self.manage('network', 'create', 'lab', '--cidr', '10.9.0.0/24', '--default')
        self.assertEqual([('big', '77', 2048, 2, 10)], self.rows(
            'SELECT name, flavorid, memory_mb, vcpus, root_gb FROM flavors'))
        self.assertEqual([('tiny', 'active')], self.rows('SELECT name, status FROM images'))
        self.assertEqual([('architecture', 'x86_64')],
                         self.rows('SELECT name, value FROM image_properties'))
        self.assertEqual([('lab', 1)], self.rows('SELECT name, is_default FROM networks'))
        self.assertEqual([('10.9.0.0/24', '10.9.0.1')],
                         self.rows('SELECT cidr, gateway_ip FROM subnets'))

    def test_seed_is_idempotent(self):
        self.manage('seed')
        self.manage('seed')
        self.assertEqual(['m1.large', 'm1.medium', 'm1.small', 'm1.tiny', 'm1.xlarge'],
                         sorted(r[0] for r in self.rows('SELECT name FROM flavors')))
        self.assertEqual(1, len(self.rows("SELECT id FROM networks WHERE name='private'")))
