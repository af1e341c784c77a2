"""The Nova side of nova_side_by_side.py: what runs inside Nova's own venv.

The driver (nova_side_by_side.py, in Kumo's venv) runs this file with the venv's
interpreter for each of three jobs:

    nova_inside.py populate CONFDIR OUT COUNT IMAGE_PROPS   COUNT servers, Nova's objects
    nova_inside.py api CONFDIR PORT THREADS                 Nova's WSGI app under waitress
    nova_inside.py scheduler HOSTS ITERATIONS               the filter + weigh pass

Nova is used as an installed package; nothing of it is copied here.
"""
from __future__ import annotations

import importlib
import json
import os
import statistics
import sys
import time
import uuid as uuidlib

PROJECT = 'bench1000'
USER = 'bench'
HOSTS = ('compute1', 'compute2', 'compute3', 'compute4')
IMAGE_ID = '155d900f-4e14-4e4c-a73d-069cbf4541e6'  # Kumo's seeded test image's id


def percentile(values: list[float], pct: float) -> float:
    """Nearest rank, as list.py's (which the Nova-side code cannot import: it imports
    Kumo)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def pass_figures(times: list[float], cpu: list[float], survivors: int) -> dict:
    """The figures of one scheduler scenario (ms): wall median, p95, min, CPU median."""
    return {'median_ms': round(statistics.median(times), 2),
            'p95_ms': round(percentile(times, 95), 2), 'min_ms': round(min(times), 2),
            'cpu_median_ms': round(statistics.median(cpu), 2), 'runs': len(times),
            'hosts_after_filters': survivors}


def nova_populate(confdir: str, out: str, count: int, image_props: dict) -> None:
    """`count` ACTIVE servers of PROJECT in cell1, with Nova's objects."""
    import datetime

    from nova import config, context, objects
    from nova.network import model as network_model

    config.parse_args(['nova-bench', '--config-file', os.path.join(confdir, 'nova.conf')])
    objects.register_all()
    admin = context.get_admin_context()
    cell = [c for c in objects.CellMappingList.get_all(admin) if not c.is_cell0()][0]
    flavor = objects.Flavor(context=admin, name='m1.tiny', memory_mb=512, vcpus=1,
                            root_gb=1, ephemeral_gb=0, swap=0, flavorid='1',
                            rxtx_factor=1.0, vcpu_weight=0, disabled=False,
                            is_public=True, extra_specs={}, description=None)
    flavor.create()
    ctxt = context.RequestContext(user_id=USER, project_id=PROJECT, is_admin=True)
    base = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    network_id = str(uuidlib.uuid4())
    subnet_id = str(uuidlib.uuid4())
    image_meta = objects.ImageMeta.from_dict({
        'id': IMAGE_ID, 'min_disk': 1, 'min_ram': 0, 'disk_format': 'qcow2',
        'container_format': 'bare', 'properties': {}})
    uuids = []
    with context.target_cell(ctxt, cell) as cctxt:
        for n in range(count):
            uuid = str(uuidlib.uuid4())
            uuids.append(uuid)
            host = HOSTS[n % len(HOSTS)]
            created = base + datetime.timedelta(seconds=n)
            address = 2 + n
            mac = 'fa:16:3e:%02x:%02x:%02x' % (address >> 16 & 255, address >> 8 & 255,
                                               address & 255)
            ip = f'10.128.{address >> 8 & 255}.{address & 255}'
            subnet = network_model.Subnet(
                cidr='10.128.0.0/16', gateway=network_model.IP(address='10.128.0.1'),
                dns=[], routes=[], ips=[network_model.FixedIP(address=ip, floating_ips=[])],
                version=4, meta={'dhcp_server': '10.128.0.2'})
            vif = network_model.VIF(
                id=str(uuidlib.uuid4()), address=mac, type='ovs', devname='tap' + uuid[:11],
                ovs_interfaceid=None, vnic_type='normal', active=True,
                details={'port_filter': True, 'ovs_hybrid_plug': False},
                network=network_model.Network(id=network_id, bridge='br-int',
                                              label='bench', subnets=[subnet],
                                              meta={'injected': False,
                                                    'tenant_id': PROJECT, 'mtu': 1450}),
                meta={'subnet_id': subnet_id}, preserve_on_delete=False)
            system_metadata = {f'image_{k}': str(v) for k, v in image_props.items()}
            system_metadata.update({'image_base_image_ref': IMAGE_ID, 'image_min_disk': '1',
                                    'image_min_ram': '0', 'image_disk_format': 'qcow2',
                                    'image_container_format': 'bare',
                                    'boot_roles': 'member,reader'})
            instance = objects.Instance(
                context=cctxt, uuid=uuid, project_id=PROJECT, user_id=USER,
                display_name=f'server-{n}', display_description=None,
                hostname=f'server-{n}', reservation_id=f'r-{n:08d}'[-10:],
                launch_index=0, image_ref=IMAGE_ID, flavor=flavor,
                instance_type_id=flavor.id, vcpus=1, memory_mb=512, root_gb=1,
                ephemeral_gb=0, key_name=None, key_data=None,
                user_data='IyEvYmluL3NoCmVjaG8gaGkK', config_drive='',
                auto_disk_config=False, root_device_name='/dev/vda',
                vm_state='active', task_state=None, power_state=1, progress=0,
                host=host, node=host, compute_id=n % len(HOSTS) + 1, launched_on=host,
                availability_zone='nova',
                launched_at=created + datetime.timedelta(seconds=1),
                created_at=created, locked=False, locked_by=None,
                metadata={k: f'{k}-{n}' for k in ('role', 'owner', 'tier')},
                system_metadata=system_metadata,
                info_cache=objects.InstanceInfoCache(
                    network_info=network_model.NetworkInfo([vif])),
                security_groups=objects.SecurityGroupList(objects=[]),
                pci_requests=objects.InstancePCIRequests(requests=[]),
                numa_topology=None, keypairs=objects.KeyPairList(objects=[]),
                trusted_certs=None, resources=None, old_flavor=None, new_flavor=None,
                vcpu_model=None, migration_context=None, device_metadata=None,
                )
            instance.create()
            objects.TagList.create(cctxt, uuid, ['web', f'batch-{n % 10}'])
            objects.BlockDeviceMapping(
                context=cctxt, instance_uuid=uuid, source_type='image',
                destination_type='local', boot_index=0, image_id=IMAGE_ID,
                device_type='disk', device_name='/dev/vda', delete_on_termination=True,
                no_device=False, disk_bus='virtio', guest_format=None,
                volume_size=None).create()
            objects.InstanceAction.action_start(cctxt, uuid, 'create', want_result=False)
            objects.InstanceMapping(context=admin, instance_uuid=uuid, cell_mapping=cell,
                                    project_id=PROJECT, user_id=USER,
                                    queued_for_delete=False).create()
            objects.RequestSpec(
                context=admin, instance_uuid=uuid, project_id=PROJECT, user_id=USER,
                flavor=flavor, image=image_meta, num_instances=1,
                availability_zone=None, scheduler_hints={}, ignore_hosts=None,
                force_hosts=None, force_nodes=None, is_bfv=False,
                security_groups=objects.SecurityGroupList(objects=[
                    objects.SecurityGroup(name='default')]),
                requested_resources=[], instance_group=None,
                retry=None, limits=None, pci_requests=None, numa_topology=None).create()
    with open(out, 'w') as f:
        json.dump(uuids, f)


def nova_api(confdir: str, port: int, threads: int) -> None:
    """Nova's WSGI application under waitress, Neutron's security groups answered here."""
    os.environ['OS_NOVA_CONFIG_DIR'] = confdir
    sys.argv = ['nova-api-os-compute']
    # nova.wsgi.osapi_compute first: at import it chooses native threads (no eventlet
    # monkey patching) and makes the application (Nova's init_application).
    osapi_compute = importlib.import_module('nova.wsgi.osapi_compute')
    import waitress
    from nova.network import security_group_api

    def bindings(context, servers, detailed=False):
        return {server['id']: [{'name': 'default'}] for server in servers}

    # The views look it up on the module at every request.
    security_group_api.get_instances_security_groups_bindings = bindings
    waitress.serve(osapi_compute.application, host='127.0.0.1', port=port,
                   threads=threads, _quiet=True)


NOVA_FILTERS = [
    # Nova 34's default enabled_filters, in its order ...
    'ComputeFilter', 'ComputeCapabilitiesFilter', 'ImagePropertiesFilter',
    'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter',
    # ... and the filters of Kumo's default list that Nova still has (Nova >= 19 has
    # no RamFilter/CoreFilter/DiskFilter and no AvailabilityZoneFilter: Placement and
    # its pre-filters do that work before the filters run).
    'AggregateInstanceExtraSpecsFilter', 'NumInstancesFilter', 'SameHostFilter',
    'DifferentHostFilter', 'SimpleCIDRAffinityFilter', 'JsonFilter']


def _ip(n: int) -> str:
    return f'10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}'


def nova_scheduler(n: int, iterations: int) -> dict:
    """Nova's filter + weigh pass (SchedulerManager._get_sorted_hosts: the filters,
    the weighers, the host subset pick) over `n` HostStates like scheduler.py's cloud:
    timed per request, in process, no database, no Placement."""
    import datetime

    from nova import monkey_patch
    monkey_patch.patch(backend='threading')
    import nova.conf
    from nova import objects
    from nova.scheduler import filters, host_manager, weights
    from nova.scheduler import manager as scheduler_manager
    conf = nova.conf.CONF
    conf([], project='nova', default_config_files=[])
    objects.register_all()
    conf.set_override('enabled_filters', NOVA_FILTERS, group='filter_scheduler')
    hm = host_manager.HostManager.__new__(host_manager.HostManager)
    hm.filter_handler = filters.HostFilterHandler()
    hm.filter_cls_map = {cls.__name__: cls for cls in hm.filter_handler.get_matching_classes(
        conf.filter_scheduler.available_filters)}
    hm.filter_obj_map = {}
    hm.enabled_filters = hm._choose_host_filters(NOVA_FILTERS)
    hm.weight_handler = weights.HostWeightHandler()
    hm.weighers = [cls() for cls in hm.weight_handler.get_matching_classes(
        conf.filter_scheduler.weight_classes)]
    manager = scheduler_manager.SchedulerManager.__new__(scheduler_manager.SchedulerManager)
    manager.host_manager = hm

    now = datetime.datetime.now(datetime.UTC)
    cells = [str(uuidlib.uuid4()) for _ in range(4)]
    named = {label: str(uuidlib.uuid4()) for label in ('same', 'different', 'm1', 'm2')}
    on_host = {5: 'same', 7: 'different', 9: 'm1', 11: 'm2'}  # scheduler.py's nodes 6..12
    hosts = []
    for i in range(n):
        name = f'host-{i:06d}'
        state = host_manager.HostState(name, name, cells[i % 4])
        compute = objects.ComputeNode(
            uuid=str(uuidlib.uuid4()), host=name, hypervisor_hostname=name,
            host_ip=_ip(i + 1), hypervisor_type='QEMU', hypervisor_version=1000,
            cpu_info='{"arch": "x86_64"}', vcpus=64, vcpus_used=(i * 7) % 64,
            memory_mb=262144, free_ram_mb=262144 - 512 - (i * 4096) % 131072,
            local_gb=4000, local_gb_used=(i * 40) % 2000,
            free_disk_gb=4000 - (i * 40) % 2000, disk_available_least=None,
            updated_at=now, numa_topology=None,
            pci_device_pools=objects.PciDevicePoolList(objects=[]),
            supported_hv_specs=[objects.HVSpec(arch='x86_64', hv_type='qemu',
                                               vm_mode='hvm')],
            stats={'num_instances': '0', 'io_workload': '0',
                   'failed_builds': '1' if i % 97 == 0 else '0'},
            metrics='[]', cpu_allocation_ratio=4.0, ram_allocation_ratio=1.0,
            disk_allocation_ratio=1.0)
        instances = {}
        if i in on_host:
            uuid = named[on_host[i]]
            instances[uuid] = objects.Instance(uuid=uuid, host=name, node=name)
        state.update(compute=compute, aggregates=[], inst_dict=instances,
                     service={'host': name, 'binary': 'nova-compute', 'disabled': False,
                              'forced_down': False, 'last_seen_up': now,
                              'created_at': now, 'updated_at': now})
        hosts.append(state)
    group = objects.InstanceGroup(uuid=str(uuidlib.uuid4()), name='g', project_id='p',
                                  user_id='u', policy='anti-affinity', policies=['anti-affinity'],
                                  rules={},
                                  members=[named['m1'], named['m2']],
                                  hosts=['host-000009', 'host-000011'])
    hints = {'same_host': [named['same']], 'different_host': [named['different']],
             'group': [group.uuid], 'build_near_host_ip': [_ip(6)], 'cidr': ['/16']}

    def spec(with_hints: bool):
        return objects.RequestSpec(
            instance_uuid=str(uuidlib.uuid4()), project_id='p', user_id='u',
            num_instances=1, flavor=objects.Flavor(
                flavorid='1', name='m1.small', vcpus=1, memory_mb=2048, root_gb=20,
                ephemeral_gb=0, swap=0, extra_specs={}),
            image=objects.ImageMeta.from_dict({'properties': {'architecture': 'x86_64'}}),
            scheduler_hints=hints if with_hints else {},
            instance_group=group if with_hints else None, ignore_hosts=None,
            force_hosts=None, force_nodes=None, requested_destination=None,
            availability_zone=None, pci_requests=None, numa_topology=None, limits=None,
            retry=None, is_bfv=False, requested_resources=[])

    result = {'hosts': n, 'filters': [f.__class__.__name__ for f in hm.enabled_filters],
              'weighers': [w.__class__.__name__ for w in hm.weighers]}
    for scenario, with_hints in (('hints', True), ('no-hints', False)):
        manager._get_sorted_hosts(spec(with_hints), hosts, 0)  # warm-up
        times, cpu, survivors = [], [], 0
        for _ in range(iterations):
            request = spec(with_hints)
            start, start_cpu = time.perf_counter(), time.process_time()
            sorted_hosts = manager._get_sorted_hosts(request, hosts, 0)
            cpu.append((time.process_time() - start_cpu) * 1000)
            times.append((time.perf_counter() - start) * 1000)
            survivors = len(sorted_hosts)
        result[scenario] = pass_figures(times, cpu, survivors)
    return result


if __name__ == '__main__':
    job, argv = sys.argv[1], sys.argv[2:]
    if job == 'populate':
        nova_populate(argv[0], argv[1], int(argv[2]), json.loads(argv[3]))
    elif job == 'scheduler':
        print(json.dumps(nova_scheduler(int(argv[0]), int(argv[1]))))
    elif job == 'api':
        nova_api(argv[0], int(argv[1]), int(argv[2]))
    else:
        sys.exit(f'unknown job {job!r}')
