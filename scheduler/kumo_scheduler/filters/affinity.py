"""Affinity filters (Nova's affinity_filter.py): same_host, different_host,
cidr + build_near_host_ip, and the hard server-group policies."""
from __future__ import annotations

import ipaddress
from collections.abc import Callable

from kumo_scheduler.filters import (
    NOTHING_REMOVED,
    PASS,
    Removed,
    SplitFilter,
    Verdict,
    reject,
)


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


class SameHostFilter(SplitFilter):
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

    def split(self, hosts, request):
        wanted = request.hint_list('same_host')
        if not wanted:
            return hosts, NOTHING_REMOVED
        near = _hosts_of(request, wanted)
        passed = [h for h in hosts if h.host in near]
        if len(passed) == len(hosts):
            return passed, NOTHING_REMOVED
        return passed, Removed.where(hosts, lambda h: h.host not in near,
                                     len(hosts) - len(passed), self._verdict(wanted))


class DifferentHostFilter(SplitFilter):
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

    def split(self, hosts, request):
        wanted = request.hint_list('different_host')
        if not wanted:
            return hosts, NOTHING_REMOVED
        far = _hosts_of(request, wanted)
        if not far:
            return hosts, NOTHING_REMOVED
        passed = [h for h in hosts if h.host not in far]
        if len(passed) == len(hosts):
            return passed, NOTHING_REMOVED
        return passed, Removed.where(hosts, lambda h: h.host in far,
                                     len(hosts) - len(passed),
                                     lambda h: self.passes(h, request),
                                     'different_host.colocated')


class SimpleCIDRAffinityFilter(SplitFilter):
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

    def split(self, hosts, request):
        net = self.network(request)
        if net is None:
            return hosts, NOTHING_REMOVED
        base, mask, version = int(net.network_address), int(net.netmask), net.version
        passed = [h for h in hosts if h.host_ip_int is not None
                  and h.host_ip_version == version and h.host_ip_int & mask == base]
        if len(passed) == len(hosts):
            return passed, NOTHING_REMOVED
        ok = set(map(id, passed))
        return passed, Removed.where(hosts, lambda h: id(h) not in ok,
                                     len(hosts) - len(passed),
                                     lambda h: self._judge(h, net, base, mask),
                                     'cidr.outside')


class _GroupFilter(SplitFilter):
    policy = ''
    code = ''
    hints = ('group',)

    def active(self, request) -> bool:
        return request.group is not None and request.group.policy == self.policy

    def refused(self, group) -> Callable[[str], bool]:
        """host name -> whether the group's policy refuses it."""
        raise NotImplementedError

    def split(self, hosts, request):
        if not self.active(request):
            return hosts, NOTHING_REMOVED
        refused = self.refused(request.group)
        passed = [h for h in hosts if not refused(h.host)]
        if len(passed) == len(hosts):
            return passed, NOTHING_REMOVED
        return passed, Removed.where(hosts, lambda h: refused(h.host),
                                     len(hosts) - len(passed),
                                     lambda h: self.passes(h, request), self.code)


class ServerGroupAffinityFilter(_GroupFilter):
    """affinity: the host must be where the group's members are (any host if none)."""
    name = 'ServerGroupAffinityFilter'
    policy = 'affinity'
    code = 'group.affinity'

    def refused(self, group):
        placed = {h for h, n in group.hosts.items() if n}
        if not placed:
            return lambda host: False
        return lambda host: host not in placed

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
    code = 'group.anti_affinity'

    def refused(self, group):
        limit = group.max_server_per_host
        if limit <= 0:
            return lambda host: True
        full = {h for h, n in group.hosts.items() if n >= limit}
        return full.__contains__

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
