"""Real guests: Kumo with the libvirt driver booting the test guest under QEMU (TCG)."""
