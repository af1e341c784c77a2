"""The policy enforcer's cache of decisions (kumo_api.policy): the same answers as
oslo.policy's own enforcer, rules changed in the enforcer or in policy.yaml taken
into account, and rules with checks that are not pure never cached."""
from __future__ import annotations

import os
import tempfile
import time

import fixtures
import testtools
from oslo_config import cfg
from oslo_policy import _checks
from oslo_policy import policy as oslo_policy

from kumo_api import policies, policy
from kumo_common import context as kumo_context
from tests.fixtures import cloud

CONF = cfg.CONF
RULES = ('os_compute_api:servers:show', 'os_compute_api:servers:detail',
         'os_compute_api:os-extended-server-attributes',
         'os_compute_api:servers:show:host_status',
         'os_compute_api:servers:allow_all_filters', 'os_compute_api:servers:delete',
         'os_compute_api:os-quota-sets:update', 'os_compute_api:limits:other_project')
CALLERS = (('u1', 'p1', ['reader']), ('u1', 'p1', ['member', 'reader']),
           ('u2', 'p1', ['member', 'reader']), ('a', 'p2', ['admin', 'member', 'reader']))
TARGETS = ({'project_id': 'p1', 'user_id': 'u1'}, {'project_id': 'p2', 'user_id': 'u9'})


class _CountingCheck(_checks.Check):
    """A check the cache must not trust: it could answer differently each time."""
    calls = 0

    def __call__(self, target, creds, enforcer, current_rule=None):
        type(self).calls += 1
        return True


class TestPolicyCache(testtools.TestCase):

    def setUp(self):
        super().setUp()
        cloud.ensure_conf_parsed()
        policy.reset()
        self.addCleanup(policy.reset)

    def _context(self, user, project, roles):
        return kumo_context.RequestContext(user_id=user, project_id=project, roles=roles)

    def test_same_decisions_as_oslo_policy(self):
        plain = oslo_policy.Enforcer(CONF)
        plain.register_defaults(policies.list_rules())
        for _round in range(2):  # the second round from the cache
            for rule in RULES:
                for caller in CALLERS:
                    ctxt = self._context(*caller)
                    for target in TARGETS:
                        self.assertEqual(
                            bool(plain.authorize(rule, target, ctxt, do_raise=False)),
                            bool(policy.authorize(ctxt, rule, target, fatal=False)),
                            (rule, caller, target))
        self.assertTrue(policy.get_enforcer()._decisions)

    def test_rules_set_in_the_enforcer_apply_at_once(self):
        ctxt = self._context('u1', 'p1', ['member', 'reader'])
        rule = 'os_compute_api:servers:show'
        self.assertTrue(policy.authorize(ctxt, rule, fatal=False))
        enforcer = policy.get_enforcer()
        enforcer.set_rules(oslo_policy.Rules.from_dict({rule: '!'}), overwrite=False,
                           use_conf=False)
        self.assertFalse(policy.authorize(ctxt, rule, fatal=False))

    def test_edited_policy_file_applies_within_the_interval(self):
        self.useFixture(fixtures.MonkeyPatch('kumo_api.policy.RELOAD_CHECK_INTERVAL', 0.2))
        rule = 'os_compute_api:servers:show'
        path = os.path.join(tempfile.mkdtemp(), 'policy.yaml')
        self.addCleanup(os.unlink, path)
        with open(path, 'w') as f:
            f.write(f'"{rule}": "role:member"\n')
        policy.get_enforcer()  # registers the [oslo_policy] options
        CONF.set_override('policy_file', path, group='oslo_policy')
        self.addCleanup(CONF.clear_override, 'policy_file', group='oslo_policy')
        policy.reset()
        ctxt = self._context('u1', 'p1', ['member', 'reader'])
        self.assertTrue(policy.authorize(ctxt, rule, fatal=False))
        with open(path, 'w') as f:
            f.write(f'"{rule}": "role:admin"\n')
        later = time.time() + 5  # a new mtime, whatever the file system's resolution
        os.utime(path, (later, later))
        time.sleep(0.3)
        self.assertFalse(policy.authorize(ctxt, rule, fatal=False))

    def test_rules_with_other_checks_are_not_cached(self):
        self.useFixture(fixtures.MonkeyPatch(
            'oslo_policy._checks.registered_checks',
            {**_checks.registered_checks, 'kumo_counting': _CountingCheck}))
        rule = 'os_compute_api:servers:show'
        enforcer = policy.get_enforcer()
        enforcer.load_rules()
        enforcer.set_rules(oslo_policy.Rules.from_dict(
            {rule: 'role:member and kumo_counting:x'}), overwrite=False, use_conf=False)
        ctxt = self._context('u1', 'p1', ['member', 'reader'])
        before = _CountingCheck.calls
        for _ in range(3):
            self.assertTrue(policy.authorize(ctxt, rule, fatal=False))
        self.assertEqual(3, _CountingCheck.calls - before)
