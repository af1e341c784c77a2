"""Kumo's configuration: one module per option group, all registered on CONF.

Importing this package registers every group, so any service can read any option
(the options a service does not use are harmless).
"""
import oslo_messaging
from oslo_config import cfg
from oslo_messaging import transport as messaging_transport

from kumo_common.conf import (
    api,
    compute,
    conductor,
    consoles,
    database,
    default,
    filter_scheduler,
    glance,
    image_service,
    libvirt,
    network_service,
    neutron,
    quota,
    scheduler,
)

CONF = cfg.CONF

# Explicit list rather than discovery, so the order of groups in generated samples
# is stable and a newcomer sees every group in one place.
GROUP_MODULES = (
    default,
    api,
    database,
    conductor,
    scheduler,
    filter_scheduler,
    compute,
    libvirt,
    quota,
    glance,
    image_service,
    neutron,
    network_service,
    consoles,
)

for _module in GROUP_MODULES:
    _module.register_opts(CONF)

# [DEFAULT] transport_url belongs to oslo.messaging, which registers it only when the
# first transport is made; registering the very same option objects now (as the
# library will) lets commands such as kumo-all set its default before parsing.
CONF.register_opts(messaging_transport._transport_opts)
oslo_messaging.set_transport_defaults('kumo')
