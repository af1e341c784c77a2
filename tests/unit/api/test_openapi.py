"""GET /openapi.json: describes every route the app serves, with the schemas its
handlers validate with (kumo_api.openapi)."""
from __future__ import annotations

import jsonschema
import schemathesis
import testtools

from kumo_api import microversion, openapi, validation
from kumo_api.app import create_app
from kumo_api.schemas import servers as server_schemas
from tests.fixtures import cloud, database


class TestOpenAPI(testtools.TestCase):

    def setUp(self):
        super().setUp()
        cloud.ensure_conf_parsed()
        self.useFixture(database.Database('sqlite'))
        self.app = create_app()
        resp = self.app.test_client().get('/openapi.json')  # no token: public
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.doc = resp.json

    def test_every_route_has_an_entry_and_every_entry_a_route(self):
        endpoints = {rule.endpoint for rule in openapi.described_rules(self.app)}
        self.assertEqual(set(), endpoints - set(openapi.OPERATIONS),
                         'routes missing from kumo_api.openapi.OPERATIONS')
        self.assertEqual(set(), set(openapi.OPERATIONS) - endpoints,
                         'OPERATIONS entries for routes that do not exist')

    def test_an_undescribed_route_fails_the_build(self):
        app = create_app()
        app.add_url_rule('/v2.1/os-new-thing', 'new.thing', lambda: '')
        self.assertRaises(openapi.UndescribedRoute, openapi.build, app)

    def test_paths_and_methods_are_the_url_map(self):
        described = {(path, method.upper()) for path, item in self.doc['paths'].items()
                     for method in item}
        for rule in openapi.described_rules(self.app):
            op = openapi.OPERATIONS[rule.endpoint]
            path = rule.rule.replace('<', '{').replace('>', '}')
            if path.endswith('/') and path != '/':
                continue
            for method in openapi.methods_of(rule):
                if op.removed is not None:
                    self.assertNotIn((path, method), described)  # 404 at 2.100
                else:
                    self.assertIn((path, method), described)
        self.assertNotIn('/v2.1/{project_id}/servers', self.doc['paths'])
        self.assertIn('/openapi.json', self.doc['paths'])

    def test_writes_have_bodies_from_the_schema_windows(self):
        create = self.doc['paths']['/v2.1/servers']['post']
        body = create['requestBody']['content']['application/json']['schema']
        expected = validation.schema_for(server_schemas.CREATE, microversion.MAX)
        self.assertEqual(openapi._to_2020(expected), body)
        action = self.doc['paths']['/v2.1/servers/{server_id}/action']['post']
        names = {next(iter(o['required'])) for o in
                 action['requestBody']['content']['application/json']['schema']['oneOf']}
        self.assertIn('os-stop', names)
        self.assertIn('reboot', names)
        params = {p['name'] for p in self.doc['paths']['/v2.1/servers']['get']['parameters']}
        self.assertTrue({'name', 'tags', 'limit', 'marker', 'changes-since'} <= params)

    def test_errors_are_nova_faults_and_only_501_of_5xx_is_described(self):
        fault = self.doc['components']['schemas']['Fault']
        jsonschema.validate({'itemNotFound': {'code': 404, 'message': 'gone'}}, fault)
        for bad in ({'error': {'code': 404, 'message': 'x'}}, {'badRequest': {'code': 400}},
                    {'badRequest': {'code': 400, 'message': 'x'}, 'extra': {}}):
            self.assertRaises(jsonschema.ValidationError, jsonschema.validate, bad, fault)
        for item in self.doc['paths'].values():
            for op in item.values():
                self.assertFalse([c for c in op['responses']
                                  if c.startswith('5') and c != '501'])

    def test_draft4_forms_are_rewritten(self):
        self.assertEqual({'exclusiveMinimum': 0, 'maximum': 9},
                         openapi._to_2020({'minimum': 0, 'exclusiveMinimum': True,
                                           'maximum': 9, 'exclusiveMaximum': False}))
        self.assertEqual({'prefixItems': [{'type': 'string'}], 'items': False},
                         openapi._to_2020({'items': [{'type': 'string'}],
                                           'additionalItems': False}))
        self.assertEqual({'type': 'string', 'format': 'python-regex'},
                         openapi._to_2020({'type': 'string', 'format': 'regex'}))

    def test_schemathesis_loads_it(self):
        schema = schemathesis.openapi.from_dict(self.doc)
        operations = [result.ok() for result in schema.get_all_operations()]
        self.assertGreater(len(operations), 50)
