"""os-getConsoleOutput: the guest's console log through the agent (fake driver)."""
import json

from tests.fixtures import cloud

SAMPLES = '/work/shared/reference/api_samples/os-console-output/'


class TestConsoleOutput(cloud.CloudTestCase):
    COMPUTES = 1

    def setUp(self):
        super().setUp()
        self.token = self.new_token()
        server = self.cloud.create_server('console', token=self.token)
        self.server_id = server['id']
        self.cloud.wait_for_status(self.server_id, 'ACTIVE')

    def action(self, body, token=None):
        return self.cloud.request('POST', f'/v2.1/servers/{self.server_id}/action',
                                  token=token or self.token, json=body)

    def test_sample_request_gets_the_sample_response(self):
        with open(SAMPLES + 'console-output-post-req.json') as f:
            request = json.load(f)
        with open(SAMPLES + 'console-output-post-resp.json') as f:
            expected = json.load(f)
        resp = self.action(request)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual(expected, resp.json)

    def test_length_takes_lines_from_the_tail(self):
        resp = self.action({'os-getConsoleOutput': {'length': 1}})
        self.assertEqual({'output': 'LAST LINE'}, resp.json)
        resp = self.action({'os-getConsoleOutput': {'length': '-1'}})
        self.assertEqual('FAKE CONSOLE OUTPUT\nANOTHER\nLAST LINE', resp.json['output'])
        resp = self.action({'os-getConsoleOutput': {}})
        self.assertEqual(3, len(resp.json['output'].splitlines()))

    def test_bad_length_is_400(self):
        for length in (-2, 'ten', 1.5):
            resp = self.action({'os-getConsoleOutput': {'length': length}})
            self.assertEqual(400, resp.status_code, length)
            self.assertIn('length', resp.json['badRequest']['message'])

    def test_another_project_gets_404(self):
        resp = self.action({'os-getConsoleOutput': {}}, token=self.new_token())
        self.assertEqual(404, resp.status_code)
