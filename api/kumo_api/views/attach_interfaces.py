"""The view of an interface attachment (os-interface): a port of the network service
as Nova shows it, with the tag it was attached with from 2.70."""
from __future__ import annotations


def attachment(port: dict, tags: dict[str, str] | None) -> dict:
    """`tags` ({port id: tag}) None: before 2.70, no `tag` key."""
    view = {'net_id': port['network_id'], 'port_id': port['id'],
            'mac_addr': port['mac_address'], 'port_state': port['status'],
            'fixed_ips': port.get('fixed_ips')}
    if tags is not None:
        view['tag'] = tags.get(port['id'])
    return view
