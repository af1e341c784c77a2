"""os-keypairs end to end: create/import/list/show/delete per microversion against the
samples, admins acting for users (2.10), paging (2.35), names (2.92), quota."""
from __future__ import annotations

import base64
import datetime
import hashlib
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.fixtures import cloud
from tests.unit.api import api_samples

ADMIN = cloud.ADMIN_TOKEN
# Values that differ by nature between Nova's samples and any real answer.
GENERATED = ('fingerprint', 'public_key', 'private_key', 'name', 'created_at', 'id')


def _import_request(path: str) -> dict:
    return api_samples.load(path)


class KeypairTestCase(cloud.CloudTestCase):
    COMPUTES = 1

    def setUp(self):
        super().setUp()
        # Key pairs belong to users: each test its own user (the samples' is "fake").
        self.user = f'user-{uuid.uuid4().hex[:8]}'
        self.token = f'{self.user}:project-{uuid.uuid4().hex[:8]}'

    def call(self, method, path, token=None, version=None, json=None, status=200):
        resp = self.cloud.request(method, '/v2.1' + path, token=token or self.token,
                                  version=version, json=json)
        self.assertEqual(status, resp.status_code, resp.get_data(True))
        return resp.json

    def fault(self, body) -> str:
        return next(iter(body.values()))['message']


class TestKeypairSamples(KeypairTestCase):

    def test_import(self):
        # The samples' key and what Nova computed for it.
        sample_key = api_samples.load('os-keypairs/keypairs-import-post-resp.json')
        for version, request, response, status in [
                ('2.1', 'keypairs-import-post-req.json', 'keypairs-import-post-resp.json',
                 200),
                ('2.2', 'v2.2/keypairs-import-post-req.json',
                 'v2.2/keypairs-import-post-resp.json', 201),
                ('2.10', 'v2.10/keypairs-import-post-req.json',
                 'v2.10/keypairs-import-post-resp.json', 201),
                ('2.92', 'v2.92/keypairs-import-post-req.json',
                 'v2.92/keypairs-import-post-resp.json', 201)]:
            body = _import_request('os-keypairs/' + request)
            body['keypair'].pop('user_id', None)
            body['keypair']['name'] += f' {version}'.replace('.', '-') \
                if version != '2.92' else ''
            token = 'fake:' + uuid.uuid4().hex[:8]
            created = self.call('POST', '/os-keypairs', token=token, version=version,
                                json=body, status=status)
            api_samples.assert_like(self, api_samples.load('os-keypairs/' + response),
                                    created, skip=('name',))
            self.assertEqual(sample_key['keypair']['fingerprint'],
                             created['keypair']['fingerprint'])
            self.assertEqual(body['keypair']['name'], created['keypair']['name'])
            self.call('DELETE', f'/os-keypairs/{created["keypair"]["name"]}', token=token,
                      version=version, status=202 if version == '2.1' else 204)

    def test_generate(self):
        for version, request, response, status in [
                ('2.1', 'keypairs-post-req.json', 'keypairs-post-resp.json', 200),
                ('2.2', 'v2.2/keypairs-post-req.json', 'v2.2/keypairs-post-resp.json', 201),
                ('2.10', 'v2.10/keypairs-post-req.json', 'v2.10/keypairs-post-resp.json',
                 201),
                ('2.35', 'v2.35/keypairs-post-req.json', 'v2.35/keypairs-post-resp.json',
                 201)]:
            body = api_samples.load('os-keypairs/' + request)
            token = 'fake:' + uuid.uuid4().hex[:8]
            created = self.call('POST', '/os-keypairs', token=token, version=version,
                                json=body, status=status)
            api_samples.assert_like(self, api_samples.load('os-keypairs/' + response),
                                    created, skip=GENERATED)
            keypair = created['keypair']
            self.assertRegex(keypair['public_key'],
                             r'^ssh-rsa [A-Za-z0-9+/=]+ Generated-by-Nova\n$')
            self.assertTrue(keypair['private_key'].startswith(
                '-----BEGIN RSA PRIVATE KEY-----\n'))
            private = serialization.load_pem_private_key(keypair['private_key'].encode(),
                                                         None)
            public = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                       serialization.PublicFormat.OpenSSH)
            self.assertEqual(public.decode(), keypair['public_key'].rsplit(' ', 1)[0])
            blob = base64.b64decode(keypair['public_key'].split()[1])
            digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
            self.assertEqual(':'.join(digest[i:i + 2] for i in range(0, 32, 2)),
                             keypair['fingerprint'])
            self.call('DELETE', f'/os-keypairs/{keypair["name"]}', token=token,
                      version=version, status=202 if version == '2.1' else 204)

    def test_show_and_list(self):
        for version, show, listing in [
                ('2.1', 'keypairs-get-resp.json', 'keypairs-list-resp.json'),
                ('2.2', 'v2.2/keypairs-get-resp.json', 'v2.2/keypairs-list-resp.json'),
                ('2.10', 'v2.10/keypairs-get-resp.json', 'v2.10/keypairs-list-resp.json')]:
            token = 'fake:' + uuid.uuid4().hex[:8]
            self.call('POST', '/os-keypairs', token=token, json={'keypair': {'name': 'k'}})
            shown = self.call('GET', '/os-keypairs/k', token=token, version=version)
            api_samples.assert_like(self, api_samples.load('os-keypairs/' + show), shown,
                                    skip=GENERATED)
            created = datetime.datetime.strptime(shown['keypair']['created_at'],
                                                 '%Y-%m-%dT%H:%M:%S.%f')
            self.assertLess(datetime.datetime.utcnow() - created,
                            datetime.timedelta(minutes=5))
            self.assertIsInstance(shown['keypair']['id'], int)
            listed = self.call('GET', '/os-keypairs', token=token, version=version)
            api_samples.assert_like(self, api_samples.load('os-keypairs/' + listing),
                                    listed, skip=GENERATED)
            self.call('DELETE', '/os-keypairs/k', token=token, status=202)

    def test_paging(self):
        token = self.token
        for name in ('c', 'a', 'b'):
            self.call('POST', '/os-keypairs', token=token, json={'keypair': {'name': name}})
        page = self.call('GET', '/os-keypairs?limit=1', token=token, version='2.35')
        api_samples.assert_like(self, api_samples.load('os-keypairs/v2.35/keypairs-list-'
                                                       'resp.json'), page,
                                skip=GENERATED + ('href',))
        self.assertEqual(['a'], [k['keypair']['name'] for k in page['keypairs']])
        self.assertEqual((True, 'os-keypairs', [('limit', '1'), ('marker', 'a')]),
                         api_samples.link_target(page['keypairs_links'][0]['href']))
        page = self.call('GET', '/os-keypairs?limit=5&marker=a', token=token,
                         version='2.35')
        self.assertEqual(['b', 'c'], [k['keypair']['name'] for k in page['keypairs']])
        self.assertNotIn('keypairs_links', page)
        body = self.call('GET', '/os-keypairs?marker=zz', token=token, version='2.35',
                         status=400)
        self.assertEqual('Marker zz could not be found.', self.fault(body))
        # Before 2.35 limit and marker mean nothing.
        self.assertEqual(3, len(self.call('GET', '/os-keypairs?limit=1', token=token,
                                          version='2.34')['keypairs']))
        self.call('GET', '/os-keypairs?foo=1', token=token, version='2.75', status=400)

    def test_admin_acts_for_a_user(self):
        user2 = f'user2-{uuid.uuid4().hex[:6]}'
        created = self.call('POST', '/os-keypairs', token=ADMIN, version='2.10',
                            json={'keypair': {'name': 'for-user2', 'user_id': user2}},
                            status=201)
        self.assertEqual(user2, created['keypair']['user_id'])
        self.call('POST', '/os-keypairs', token=ADMIN, version='2.10',
                  json={'keypair': {'name': 'another', 'user_id': user2}}, status=201)
        page = self.call('GET', f'/os-keypairs?user_id={user2}&limit=1', token=ADMIN,
                         version='2.35')
        api_samples.assert_like(
            self, api_samples.load('os-keypairs/v2.35/keypairs-list-user2-resp.json'), page,
            skip=GENERATED + ('href',))
        self.assertEqual([('limit', '1'), ('marker', 'another'), ('user_id', user2)],
                         api_samples.link_target(page['keypairs_links'][0]['href'])[2])
        self.call('GET', f'/os-keypairs/for-user2?user_id={user2}', token=ADMIN,
                  version='2.10')
        # The admin's own keys are not user2's.
        self.call('GET', '/os-keypairs/for-user2', token=ADMIN, version='2.10', status=404)
        # user_id means nothing before 2.10.
        self.call('GET', f'/os-keypairs/for-user2?user_id={user2}', token=ADMIN,
                  version='2.9', status=404)
        self.call('DELETE', f'/os-keypairs/for-user2?user_id={user2}', token=ADMIN,
                  version='2.10', status=204)
        self.call('GET', f'/os-keypairs/for-user2?user_id={user2}', token=ADMIN,
                  version='2.10', status=404)

    def test_users_see_only_their_own(self):
        self.call('POST', '/os-keypairs', json={'keypair': {'name': 'mine'}})
        other = f'other-{uuid.uuid4().hex[:6]}:{uuid.uuid4().hex[:6]}'
        body = self.call('GET', '/os-keypairs/mine', token=other, status=404)
        self.assertEqual(f'Keypair mine not found for user {other.split(":")[0]}',
                         self.fault(body))
        self.assertEqual({'keypairs': []}, self.call('GET', '/os-keypairs', token=other))
        for method, path in (('GET', f'/os-keypairs?user_id={self.user}'),
                             ('GET', f'/os-keypairs/mine?user_id={self.user}'),
                             ('DELETE', f'/os-keypairs/mine?user_id={self.user}')):
            body = self.call(method, path, token=other, version='2.10', status=403)
            self.assertIn("Policy doesn't allow os_compute_api:os-keypairs:", self.fault(body))
        self.call('POST', '/os-keypairs', token=other, version='2.10',
                  json={'keypair': {'name': 'x', 'user_id': self.user}}, status=403)
        self.call('DELETE', '/os-keypairs/mine', token=other, status=404)
        self.call('GET', '/os-keypairs/mine')


class TestKeypairRules(KeypairTestCase):

    def test_duplicate_name(self):
        self.call('POST', '/os-keypairs', json={'keypair': {'name': 'dup'}})
        body = self.call('POST', '/os-keypairs', json={'keypair': {'name': 'dup'}},
                         status=409)
        self.assertEqual("Key pair 'dup' already exists.", self.fault(body))

    def test_names(self):
        body = self.call('POST', '/os-keypairs', version='2.91',
                         json={'keypair': {'name': 'me@home'}}, status=400)
        # Nova 34's words: the schema's pattern.
        self.assertEqual("Invalid input for field/attribute keypair/name. Value: me@home. "
                         "'me@home' does not match '^[_\\\\- a-zA-Z0-9]+$'", self.fault(body))
        key = _import_request('os-keypairs/keypairs-import-post-req.json')['keypair']
        self.call('POST', '/os-keypairs', version='2.92', status=201,
                  json={'keypair': {'name': 'me.and.myself@home', 'public_key':
                                    key['public_key']}})
        self.call('POST', '/os-keypairs', version='2.92', status=400,
                  json={'keypair': {'name': 'no!', 'public_key': key['public_key']}})
        for name in ('', ' lead', 'x' * 256):
            self.call('POST', '/os-keypairs', json={'keypair': {'name': name}}, status=400)

    def test_no_generation_from_2_92(self):
        body = self.call('POST', '/os-keypairs', version='2.92',
                         json={'keypair': {'name': 'gen'}}, status=400)
        self.assertIn("'public_key' is a required property", self.fault(body))

    def test_types(self):
        self.call('POST', '/os-keypairs', version='2.1', status=400,
                  json={'keypair': {'name': 't', 'type': 'ssh'}})
        self.call('POST', '/os-keypairs', version='2.2', status=400,
                  json={'keypair': {'name': 't', 'type': 'rsa'}})
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'test')])
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(1).not_valid_before(now)
                .not_valid_after(now + datetime.timedelta(days=1))
                .sign(key, hashes.SHA256()))
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        created = self.call('POST', '/os-keypairs', version='2.2', status=201,
                            json={'keypair': {'name': 'cert', 'type': 'x509',
                                              'public_key': pem}})['keypair']
        self.assertEqual('x509', created['type'])
        self.assertEqual(cert.fingerprint(hashes.SHA1()).hex(':'), created['fingerprint'])
        generated = self.call('POST', '/os-keypairs', version='2.2', status=201,
                              json={'keypair': {'name': 'gen-cert', 'type': 'x509'}})
        cert = x509.load_pem_x509_certificate(generated['keypair']['public_key'].encode())
        self.assertEqual(cert.fingerprint(hashes.SHA1()).hex(':'),
                         generated['keypair']['fingerprint'])
        self.assertEqual('x509', self.call('GET', '/os-keypairs/cert',
                                           version='2.2')['keypair']['type'])

    def test_invalid_public_key(self):
        for public_key in ('ssh-rsa not-base64', 'garbage', ''):
            body = self.call('POST', '/os-keypairs', status=400,
                             json={'keypair': {'name': 'bad', 'public_key': public_key}})
            self.assertEqual('Keypair data is invalid: failed to generate fingerprint',
                             self.fault(body))
        body = self.call('POST', '/os-keypairs', version='2.2', status=400,
                         json={'keypair': {'name': 'bad', 'type': 'x509',
                                           'public_key': 'not a cert'}})
        self.assertTrue(self.fault(body).startswith(
            'Keypair data is invalid: failed to generate X509 fingerprint.'))
        self.assertEqual({'keypairs': []}, self.call('GET', '/os-keypairs'))

    def test_quota(self):
        project = self.token.split(':')[1]
        self.call('PUT', f'/os-quota-sets/{project}', token=ADMIN,
                  json={'quota_set': {'key_pairs': 2}})
        for name in ('k1', 'k2'):
            self.call('POST', '/os-keypairs', json={'keypair': {'name': name}})
        body = self.call('POST', '/os-keypairs', json={'keypair': {'name': 'k3'}},
                         status=403)
        self.assertEqual('Quota exceeded, too many key pairs.', self.fault(body))
        self.call('DELETE', '/os-keypairs/k1', version='2.2', status=204)
        self.call('POST', '/os-keypairs', json={'keypair': {'name': 'k3'}})
        self.assertEqual(['k2', 'k3'], [k['keypair']['name'] for k in
                                        self.call('GET', '/os-keypairs')['keypairs']])

    def test_key_name_on_server(self):
        self.call('POST', '/os-keypairs', json={'keypair': {'name': 'boot-key'}})
        server = self.cloud.create_server(token=self.token, key_name='boot-key')
        view = self.cloud.wait_for_status(server['id'], 'ACTIVE', token=self.token)
        self.assertEqual('boot-key', view['key_name'])
        resp = self.cloud.request('POST', '/v2.1/servers', token=self.token, version='2.37',
                                  json={'server': {'name': 'vm', 'flavorRef': '1',
                                                   'imageRef': cloud.IMAGE_ID,
                                                   'networks': 'auto',
                                                   'key_name': 'not-mine'}})
        self.assertEqual(400, resp.status_code)
