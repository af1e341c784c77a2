"""keystoneauth's session (cafile, insecure, timeout...) and auth plugin options, in the
group of each service Kumo calls ([glance], [neutron]).

Registered by kumo_common.service_http before it makes a group's session, not with
the other options: keystoneauth1 brings requests and urllib3 (some 6 MB in every
process), and only a deployment with an external image or network API reads them.
"""
from __future__ import annotations

from oslo_config import cfg


def register_opts(conf: cfg.ConfigOpts, group_name: str) -> None:
    """Register them in `group_name` (again is harmless)."""
    from keystoneauth1 import loading as ks_loading
    ks_loading.register_session_conf_options(conf, group_name)
    ks_loading.register_auth_conf_options(conf, group_name)


def list_opts() -> list[cfg.Opt]:
    """What the sample config shows of them (the password plugin's as the example)."""
    from keystoneauth1 import loading as ks_loading
    return (ks_loading.get_session_conf_options()
            + ks_loading.get_auth_common_conf_options()
            + ks_loading.get_auth_plugin_conf_options('password'))
