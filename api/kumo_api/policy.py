"""The policy enforcer (oslo.policy) with Kumo's defaults registered."""
from __future__ import annotations

import threading

from oslo_config import cfg
from oslo_policy import policy

from kumo_api import errors, policies

CONF = cfg.CONF
_ENFORCER: policy.Enforcer | None = None
_LOCK = threading.Lock()


def get_enforcer(conf: cfg.ConfigOpts = CONF) -> policy.Enforcer:
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is None:
            _ENFORCER = policy.Enforcer(conf)
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
    allowed = get_enforcer().authorize(rule, target, ctxt, do_raise=False)
    if not allowed and fatal:
        raise errors.Forbidden(f"Policy doesn't allow {rule} to be performed.")
    return allowed
