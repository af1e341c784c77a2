"""The libvirt driver's console pieces, without libvirtd: the serial and VNC devices
a guest gets per configuration, the free-port choice, and host/port read back from
domain XML (as the live domain shows it), plus the agent's enabled checks."""
from __future__ import annotations

import socket
import xml.etree.ElementTree as ET

import testtools
from oslo_config import cfg
from oslo_config import fixture as config_fixture

import kumo_common.conf  # noqa: F401  (registers the option groups)
from kumo_common import exceptions
from kumo_compute import consoles as agent_consoles
from kumo_compute.virt.libvirt import config as vconfig
from kumo_compute.virt.libvirt import consoles

CONF = cfg.CONF


def _domain(serials, graphics=()) -> ET.Element:
    domain = vconfig.Domain(
        uuid='u', name='n', virt_type='qemu', memory_mib=64, vcpus=1, os=vconfig.OS(),
        metadata=vconfig.InstanceMetadata(host='h', node='n', name='vm', flavor='f',
                                          project_id='p', user_id='u', created_at='t'),
        serials=list(serials), graphics=list(graphics))
    return ET.fromstring(domain.to_xml())


def _free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class TestConsoleDevices(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))

    def test_disabled_keeps_the_file_serial(self):
        self.conf.config(enabled=False, group='serial_console')
        self.conf.config(enabled=False, group='vnc')
        root = _domain(consoles.serial_devices('/x/console.log'), consoles.graphics_devices())
        self.assertEqual(['file'], [s.get('type') for s in root.findall('./devices/serial')])
        self.assertIsNone(root.find('./devices/graphics'))
        self.assertRaises(exceptions.ConsoleTypeUnavailable, consoles.serial_from_xml,
                          ET.tostring(root, encoding='unicode'))

    def enable_serial(self, low: int, high: int) -> None:
        self.conf.config(enabled=True, port_range=f'{low}:{high}',
                         proxyclient_address='127.0.0.1', group='serial_console')

    def test_enabled_serial_is_tcp_in_the_range_and_still_logs(self):
        low = _free_port()
        self.enable_serial(low, low + 20)
        root = _domain(consoles.serial_devices('/x/console.log'))
        serial = root.find("./devices/serial[@type='tcp']")
        self.assertEqual('raw', serial.find('protocol').get('type'))
        self.assertEqual('/x/console.log', serial.find('log').get('file'))
        host, port = consoles.serial_from_xml(ET.tostring(root, encoding='unicode'))
        self.assertEqual('127.0.0.1', host)
        self.assertTrue(low <= port <= low + 20, port)
        # A port already given out, or one something listens on, is not given again.
        with socket.socket() as busy:
            busy.bind(('127.0.0.1', 0))
            busy.listen()
            taken = busy.getsockname()[1]
            self.conf.config(port_range=f'{taken}:{taken}', group='serial_console')
            self.assertRaises(exceptions.SocketPortRangeExhausted, consoles.acquire_port,
                              '127.0.0.1')
        self.conf.config(port_range=f'{port}:{port}', group='serial_console')
        self.assertRaises(exceptions.SocketPortRangeExhausted, consoles.acquire_port,
                          '127.0.0.1')

    def test_a_port_comes_back_when_its_guest_goes(self):
        port = _free_port()
        self.enable_serial(port, port)
        xml = ET.tostring(_domain(consoles.serial_devices('/x/console.log')),
                          encoding='unicode')
        self.assertEqual(('127.0.0.1', port), consoles.serial_from_xml(xml))
        # Held while the guest is defined (running or not: nothing listens then).
        self.assertRaises(exceptions.SocketPortRangeExhausted, consoles.acquire_port,
                          '127.0.0.1')
        consoles.release_ports(xml)   # its domain undefined
        self.assertEqual(port, consoles.acquire_port('127.0.0.1'))
        consoles.release_ports(xml)
        # An agent starting up holds the ports of the guests already defined.
        consoles.hold_ports(xml)
        self.assertRaises(exceptions.SocketPortRangeExhausted, consoles.acquire_port,
                          '127.0.0.1')
        consoles.release_ports(xml)

    def test_vnc_graphics_and_its_live_port(self):
        self.conf.config(enabled=True, server_listen='127.0.0.2',
                         server_proxyclient_address='10.1.2.3', group='vnc')
        root = _domain([], consoles.graphics_devices())
        graphics = root.find("./devices/graphics[@type='vnc']")
        self.assertEqual(('yes', '127.0.0.2'), (graphics.get('autoport'),
                                                graphics.get('listen')))
        # Defined, not running: no port yet.
        self.assertRaises(exceptions.ConsoleTypeUnavailable, consoles.vnc_from_xml,
                          ET.tostring(root, encoding='unicode'))
        graphics.set('port', '5901')
        self.assertEqual(('10.1.2.3', 5901),
                         consoles.vnc_from_xml(ET.tostring(root, encoding='unicode')))


class _Driver:
    def get_serial_console(self, uuid):
        return '127.0.0.1', 10001

    def get_vnc_console(self, uuid):
        raise NotImplementedError


class TestAgentConsoles(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))

    def test_disabled_type_is_unavailable_as_nova_words_it(self):
        self.conf.config(enabled=False, group='serial_console')
        self.conf.config(enabled=False, group='vnc')
        exc = self.assertRaises(exceptions.ConsoleTypeUnavailable,
                                agent_consoles.serial_console, _Driver(), 'u')
        self.assertEqual('Unavailable console type serial.', str(exc))
        exc = self.assertRaises(exceptions.ConsoleTypeUnavailable,
                                agent_consoles.vnc_console, _Driver(), 'u')
        self.assertEqual('Unavailable console type novnc.', str(exc))

    def test_enabled(self):
        self.conf.config(enabled=True, group='serial_console')
        self.conf.config(enabled=True, group='vnc')
        self.assertEqual({'host': '127.0.0.1', 'port': 10001, 'internal_access_path': None},
                         agent_consoles.serial_console(_Driver(), 'u'))
        self.assertIsNone(agent_consoles.vnc_console(_Driver(), 'u'))  # API: 501
