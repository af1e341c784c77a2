"""Affinity filters (Nova's affinity_filter.py): same_host, different_host,
cidr + build_near_host_ip, and the hard server-group policies."""
from __future__ import annotations

import ipaddress

from kumo_scheduler.filters import PASS, BaseFilter, Verdict, reject


def _hosts_of(request, uuids) -> dict[str, list[str]]:
    """host -> the listed instances it runs (from the manager's one lookup)."""
    hosts: dict[str, list[str]] = {}
    for uuid in uuids:
        place = request.instance_hosts.get(uuid)
        if place is not None and place[0]:
            hosts.setdefault(place[0], []).append(uuid)
    return hosts


def _short(uuids) -> str:
    uuids = list(uuids)
    text = ', '.join(uuids[:3])
    return text + (f' and {len(uuids) - 3} more' if len(uuids) > 3 else '')


class SameHostFilter(BaseFilter):
    """Passes hosts that run ANY of the instances named by `same_host`."""
    name = 'SameHostFilter'
    hints = ('same_host',)

    def passes(self, host, request) -> Verdict:
        wanted = request.hint_list('same_host')
        if not wanted:
            return PASS
        if host.host in _hosts_of(request, wanted):
            return PASS
        return self._verdict(wanted)

    @staticmethod
    def _verdict(wanted) -> Verdict:
        return reject('same_host.not_colocated',
                      f'same_host: runs none of {_short(wanted)}')

    def filter_all(self, hosts, request):
        wanted = request.hint_list('same_host')
        if not wanted:
            return hosts, []
        near = _hosts_of(request, wanted)
        verdict = self._verdict(wanted)
        passed = [h for h in hosts if h.host in near]
        return passed, [(h, verdict) for h in hosts if h.host not in near]


class DifferentHostFilter(BaseFilter):
    """Passes hosts that run NONE of the instances named by `different_host`."""
    name = 'DifferentHostFilter'
    hints = ('different_host',)

    def passes(self, host, request) -> Verdict:
        wanted = request.hint_list('different_host')
        on_host = _hosts_of(request, wanted).get(host.host)
        if on_host:
            return reject('different_host.colocated',
                          f'different_host: runs {_short(on_host)}')
        return PASS

    def filter_all(self, hosts, request):
        wanted = request.hint_list('different_host')
        if not wanted:
            return hosts, []
        far = _hosts_of(request, wanted)
        if not far:
            return hosts, []
        passed = [h for h in hosts if h.host not in far]
        return passed, [(h, self.passes(h, request)) for h in hosts if h.host in far]


class SimpleCIDRAffinityFilter(BaseFilter):
    """Passes hosts whose IP is in the network build_near_host_ip + cidr (/24)."""
    name = 'SimpleCIDRAffinityFilter'
    hints = ('build_near_host_ip', 'cidr')

    @staticmethod
    def network(request) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
        near = request.hint('build_near_host_ip')
        if not near:
            return None
        cidr = request.hint('cidr', '/24')
        return ipaddress.ip_network(f'{near}{cidr}', strict=False)

    def passes(self, host, request) -> Verdict:
        net = self.network(request)
        if net is None:
            return PASS
        return self._judge(host, net, int(net.network_address), int(net.netmask))

    @staticmethod
    def _judge(host, net, base, mask) -> Verdict:
        ip = host.host_ip_int
        if ip is not None and host.host_ip_version == net.version and ip & mask == base:
            return PASS
        return reject('cidr.outside', f'cidr: host IP {host.host_ip or "unknown"} is '
                      f'outside {net}')

    def filter_all(self, hosts, request):
        net = self.network(request)
        if net is None:
            return hosts, []
        base, mask, version = int(net.network_address), int(net.netmask), net.version
        passed = [h for h in hosts if h.host_ip_int is not None
                  and h.host_ip_version == version and h.host_ip_int & mask == base]
        if len(passed) == len(hosts):
            return passed, []
        ok = set(map(id, passed))
        return passed, [(h, self._judge(h, net, base, mask)) for h in hosts
                        if id(h) not in ok]


class _GroupFilter(BaseFilter):
    policy = ''
    hints = ('group',)

    def active(self, request) -> bool:
        return request.group is not None and request.group.policy == self.policy

    def filter_all(self, hosts, request):
        if not self.active(request):
            return hosts, []
        return super().filter_all(hosts, request)


class ServerGroupAffinityFilter(_GroupFilter):
    """affinity: the host must be where the group's members are (any host if none)."""
    name = 'ServerGroupAffinityFilter'
    policy = 'affinity'

    def passes(self, host, request) -> Verdict:
        if not self.active(request):
            return PASS
        group = request.group
        placed = {h for h, n in group.hosts.items() if n}
        if not placed or host.host in placed:
            return PASS
        return reject('group.affinity', f'group {group.uuid} (affinity): members are on '
                      f'{", ".join(sorted(placed))}')


class ServerGroupAntiAffinityFilter(_GroupFilter):
    """anti-affinity: fewer than max_server_per_host members already on the host."""
    name = 'ServerGroupAntiAffinityFilter'
    policy = 'anti-affinity'

    def passes(self, host, request) -> Verdict:
        if not self.active(request):
            return PASS
        group = request.group
        count = group.hosts.get(host.host, 0)
        limit = group.max_server_per_host
        if count >= limit:
            return reject('group.anti_affinity', f'group {group.uuid} (anti-affinity): '
                          f'host has {count} member(s), max_server_per_host {limit}')
        return PASS
