"""A bounded schemathesis run against kumo-all: no 5xx, no schema violation, no
invalid request accepted (benchmarks/fuzz.py is the 10,000-request version)."""
from __future__ import annotations

import testtools
from testtools import content

from tests.fixtures import fuzz, stack

REQUESTS = 300


class TestFuzz(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack = stack.AllInOneStack(computes=2)
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.cleanUp()
        super().tearDownClass()

    def test_generated_requests(self):
        report = fuzz.run(fuzz.Target.http(self.stack.endpoint), total=REQUESTS, seed=0)
        self.addDetail('fuzz-summary', content.text_content(report.summary()))
        findings = '\n'.join(str(f) for f in report.findings())
        if findings:
            self.addDetail('kumo-all-log', content.text_content(
                self.stack.log_tail('kumo-all', 200)))
        self.assertGreaterEqual(report.requests, REQUESTS)
        self.assertEqual([], report.server_errors, findings)
        self.assertEqual([], report.schema_violations, findings)
        self.assertEqual([], report.accepted_invalid, findings)
