"""kumo-all: every Kumo service in one process, for labs and `make run`.

API, conductor, scheduler and N compute agents share one process and talk through
oslo.messaging (in-process `fake://` by default, or any transport_url). Agents are
named compute1..computeN, each with its own host IP from 127.0.1.0/24.
"""
from __future__ import annotations

import os
import sys
import threading

from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import rpc, service

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

cli_opts = [
    cfg.IntOpt('computes', default=1, min=0, help='Compute agents to run.'),
    cfg.PortOpt('port', help='API port (overrides [api] listen_port).'),
    cfg.PortOpt('image-port', help='Image service port (overrides [image_service] '
                                   'listen_port).'),
    cfg.PortOpt('network-port', help='Network service port (overrides [network_service] '
                                     'listen_port).'),
]


def split_machine(count: int) -> None:
    """N libvirt agents share one libvirtd, so one machine: unless the configuration
    gives them a smaller share, each reports 1/N of it ([libvirt] capacity_share), so
    that together they report no more than the machine has."""
    if count < 2 or CONF.compute.virt_driver != 'libvirt':
        return
    if CONF.libvirt.capacity_share < 1.0:
        return
    CONF.set_override('capacity_share', 1.0 / count, 'libvirt')
    LOG.info('%d libvirt agents share this machine: each reports 1/%d of it', count,
             count)


def start_computes(count: int) -> list:
    from kumo_compute.cmd import ComputeAgent
    split_machine(count)
    agents = []
    for n in range(1, count + 1):
        host = f'compute{n}'
        agent = ComputeAgent(host, f'127.0.1.{n}', CONF.cell_name,
                             os.path.join(CONF.state_path, 'computes', host))
        agents.append(agent)
    # Register concurrently: each registration is an RPC call to the conductor.
    threads = [threading.Thread(target=a.start) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return agents


def choose_virt_driver() -> str:
    """[compute] virt_driver when the configuration sets it; otherwise libvirt if
    libvirtd answers at [libvirt] connection_uri (with virt_type qemu unless set, as
    /dev/kvm may be missing or hang), else fake. Says what it chose and why."""
    explicit = CONF.get_location('virt_driver', 'compute').location \
        != cfg.Locations.opt_default
    if explicit:
        message = f'{CONF.compute.virt_driver} (set in the configuration)'
    else:
        from kumo_compute import virt
        uri = CONF.libvirt.connection_uri
        problem = virt.probe_libvirt(uri)
        if problem is None:
            CONF.set_override('virt_driver', 'libvirt', 'compute')
            if CONF.get_location('virt_type', 'libvirt').location == cfg.Locations.opt_default:
                CONF.set_override('virt_type', 'qemu', 'libvirt')
            message = (f'libvirt (libvirtd answers at {uri}; virt_type '
                       f'{CONF.libvirt.virt_type})')
        else:
            message = f'fake (libvirtd does not answer at {uri}: {problem})'
    print(f'Virt driver: {message}', flush=True)
    LOG.info('Virt driver: %s', message)
    return CONF.compute.virt_driver


def start_side_services() -> list[str]:
    """Kumo's own image and network services, each in a thread on its port, unless
    [glance] / [neutron] endpoint points at another service. Returns what runs where."""
    from kumo_api.cmd import services
    if CONF.image_port:
        CONF.set_override('listen_port', CONF.image_port, 'image_service')
    if CONF.network_port:
        CONF.set_override('listen_port', CONF.network_port, 'network_service')
    lines = []
    for side in (services.IMAGE, services.NETWORK):
        if not side.runs_here():
            lines.append(f'{side.title}: {side.endpoint()} ([{side.endpoint_group}] '
                         f'endpoint; not started here)')
            continue
        try:
            services.start(side)
        except OSError as exc:
            sys.exit(f'kumo-all: cannot serve the {side.title} on {side.url()}: {exc}. '
                     f'Free the port, or choose another with --{side.name}-port.')
        lines.append(f'{side.title} at {side.url()}')
    return lines


def write_clouds_yaml(compute_root: str) -> None:
    """With noauth2, $state_path/clouds.yaml for the `openstack` CLI and openstacksdk
    (kumo_api/cmd/clouds_yaml.py explains the settings); says how to use it."""
    if CONF.api.auth_strategy != 'noauth2':
        return
    from kumo_api.cmd import clouds_yaml, services
    text = clouds_yaml.render(compute_root, services.IMAGE.endpoint(),
                              services.NETWORK.endpoint())
    try:
        path = clouds_yaml.write(os.path.join(CONF.state_path, 'clouds.yaml'), text)
    except OSError as exc:
        LOG.warning('Could not write clouds.yaml: %s', exc)
        return
    print(f'  openstack CLI: export OS_CLIENT_CONFIG_FILE={path} OS_CLOUD=kumo '
          f'(or kumo-demo)', flush=True)


def main(argv=None) -> None:
    CONF.register_cli_opts(cli_opts)
    CONF.set_default('transport_url', 'fake://')
    service.prepare(sys.argv[1:] if argv is None else argv, 'kumo-all')
    rpc.init()
    if CONF.computes:
        choose_virt_driver()
    # First: a port already taken ends kumo-all here, before any other thread runs.
    side_services = start_side_services()
    from kumo_api import console_proxy
    try:
        side_services += console_proxy.start_enabled()
    except OSError as exc:
        sys.exit(f'kumo-all: cannot serve the console proxy: {exc}')
    from kumo_api.cmd import api as api_cmd
    from kumo_conductor import cmd as conductor_cmd
    from kumo_scheduler import cmd as scheduler_cmd

    conductor_cmd.start()
    scheduler_cmd.start()
    agents = start_computes(CONF.computes)
    port = CONF.port or CONF.api.listen_port
    endpoint = f'http://{CONF.api.listen}:{port}'
    print(f'Kumo is up: compute API at {endpoint}/v2.1 '
          f'({len(agents)} compute agent(s), driver {CONF.compute.virt_driver}, '
          f'database {CONF.database.connection.split("://")[0]}, '
          f'messaging {CONF.transport_url.split("://")[0] if CONF.transport_url else "?"})',
          flush=True)
    for line in side_services:
        print(f'  {line}', flush=True)
    write_clouds_yaml(endpoint)
    print('Try:\n'
          f"  curl -s -H 'X-Auth-Token: admin:admin' {endpoint}/v2.1/images\n"
          f"  curl -s -H 'X-Auth-Token: admin:admin' -H 'Content-Type: application/json' "
          f"-d '{{\"server\": {{\"name\": \"vm1\", \"flavorRef\": \"1\", \"imageRef\": "
          f"\"155d900f-4e14-4e4c-a73d-069cbf4541e6\", \"networks\": \"auto\"}}}}' "
          f"-H 'OpenStack-API-Version: compute 2.100' {endpoint}/v2.1/servers", flush=True)
    api_cmd.serve(CONF.api.listen, port)
