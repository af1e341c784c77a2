"""The policy enforcer (oslo.policy) with Kumo's defaults registered, and a cache of
its decisions.

oslo.policy makes every check from scratch: it looks for changed policy files and
walks every registered default (some 150 rules) before it evaluates the rule, 0.1 to
0.3 ms a check, and a server show makes three checks, a list four. Yet a decision
depends only on the rule, the caller's credentials and the target, as long as the
rules stay the same and the rule is made of oslo.policy's pure checks (roles, generic
matches of credentials against the target, references to other rules, and/or/not,
true/false; not `http:` or a plugin). So the enforcer keeps those decisions by
(rule, credentials, target), forgets them all whenever its rules change (set_rules,
clear, new defaults, a reload of a changed policy file), and looks for changed
policy files at most once every RELOAD_CHECK_INTERVAL seconds instead of at every
check: an edit of policy.yaml takes effect within a second.
"""
from __future__ import annotations

import threading
import time

from oslo_config import cfg
from oslo_policy import _checks, policy

from kumo_api import errors, policies

CONF = cfg.CONF
RELOAD_CHECK_INTERVAL = 1.0
# Decisions kept at most (one per rule, caller and target seen): past this the
# cache starts again from empty.
_MAX_DECISIONS = 20000
_ENFORCER: policy.Enforcer | None = None
_LOCK = threading.Lock()

# Checks whose outcome depends on nothing but the rules, credentials and target.
_PURE_CHECKS = (_checks.TrueCheck, _checks.FalseCheck, _checks.RoleCheck,
                _checks.GenericCheck)


class Enforcer(policy.Enforcer):
    """oslo.policy's Enforcer, remembering its pure decisions (`decide`)."""

    def __init__(self, *args, **kwargs):
        self._cache_lock = threading.Lock()
        self._decisions: dict = {}
        self._pure: dict[str, bool] = {}
        self._generation = 0
        self._rules_checked_at: float | None = None
        super().__init__(*args, **kwargs)

    def _forget(self) -> None:
        with self._cache_lock:
            self._decisions = {}
            self._pure = {}
            self._generation += 1

    def set_rules(self, *args, **kwargs) -> None:
        super().set_rules(*args, **kwargs)
        self._forget()

    def clear(self) -> None:
        super().clear()
        self._forget()

    def register_default(self, *args, **kwargs):
        result = super().register_default(*args, **kwargs)
        self._forget()
        return result

    def load_rules(self, force_reload: bool = False) -> None:
        # A changed policy file is applied through set_rules, which forgets.
        super().load_rules(force_reload)
        self._rules_checked_at = time.monotonic()

    def decide(self, rule: str, target: dict, ctxt):
        """What authorize(rule, target, ctxt) answers (without raising), from the
        cache when the same question was answered under the same rules."""
        checked = self._rules_checked_at
        if checked is None or time.monotonic() - checked >= RELOAD_CHECK_INTERVAL:
            self.load_rules()
        try:
            key = (rule, _creds_key(ctxt), tuple(target.items()))
            hash(key)
        except TypeError:  # a value that is not hashable: decide every time
            return self.authorize(rule, target, ctxt, do_raise=False)
        found = self._decisions.get(key, _MISSING)
        if found is not _MISSING:
            return found
        generation = self._generation
        allowed = self.authorize(rule, target, ctxt, do_raise=False)
        with self._cache_lock:
            if generation == self._generation and self._is_pure(rule):
                if len(self._decisions) >= _MAX_DECISIONS:
                    self._decisions = {}
                self._decisions[key] = allowed
        return allowed

    def _is_pure(self, rule: str) -> bool:
        pure = self._pure.get(rule)
        if pure is None:
            check = self.rules.get(rule)
            pure = self._pure[rule] = check is not None and self._pure_check(check,
                                                                              {rule})
        return pure

    def _pure_check(self, check, seen: set[str]) -> bool:
        kind = type(check)
        if kind in (_checks.AndCheck, _checks.OrCheck):
            return all(self._pure_check(c, seen) for c in check.rules)
        if kind is _checks.NotCheck:
            return self._pure_check(check.rule, seen)
        if kind is _checks.RuleCheck:
            if check.match in seen:
                return True
            referred = self.rules.get(check.match)
            return referred is not None and self._pure_check(referred,
                                                             seen | {check.match})
        return kind in _PURE_CHECKS


_MISSING = object()
# The context attributes oslo.context's to_policy_values() is made of, read directly
# (building that mapping and a key from it costs ten times more).
_POLICY_VALUES = ('user_id', 'user_domain_id', 'system_scope', 'domain_id', 'project_id',
                  'project_domain_id', 'roles', 'is_admin_project', 'service_user_id',
                  'service_user_domain_id', 'service_project_id',
                  'service_project_domain_id', 'service_roles')
_direct_keys: dict[type, bool] = {}


def _creds_key(ctxt) -> tuple:
    """What the caller's credentials are made of, as a hashable key."""
    kind = type(ctxt)
    direct = _direct_keys.get(kind)
    if direct is None:
        # Only where to_policy_values() is exactly those attributes (not overridden,
        # not a newer oslo.context with more of them).
        values = ctxt.to_policy_values()
        direct = _direct_keys[kind] = (
            list(values) == list(_POLICY_VALUES)
            and all(values[name] is getattr(ctxt, name) for name in _POLICY_VALUES))
    if direct:
        return tuple(tuple(v) if isinstance(v, list) else v
                     for v in map(ctxt.__getattribute__, _POLICY_VALUES))
    return tuple((k, tuple(v) if isinstance(v, list) else v)
                 for k, v in ctxt.to_policy_values().items())


def get_enforcer(conf: cfg.ConfigOpts = CONF) -> Enforcer:
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is None:
            _ENFORCER = Enforcer(conf)
            _ENFORCER.register_defaults(policies.list_rules())
        return _ENFORCER


def reset() -> None:
    global _ENFORCER
    with _LOCK:
        _ENFORCER = None


def authorize(ctxt, rule: str, target: dict | None = None, fatal: bool = True) -> bool:
    """Check a rule for the caller; by default a denial raises a 403 in Nova's words."""
    target = target if target is not None else {'project_id': ctxt.project_id,
                                                'user_id': ctxt.user_id}
    allowed = get_enforcer().decide(rule, target, ctxt)
    if not allowed and fatal:
        raise errors.Forbidden(f"Policy doesn't allow {rule} to be performed.")
    return allowed
