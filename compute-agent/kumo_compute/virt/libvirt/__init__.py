"""The libvirt virt driver: driver.py (and events.py) are the only modules of the
agent that import libvirt-python; the other pieces (config, configdrive, disk,
imagecache) are plain Python and tools."""
