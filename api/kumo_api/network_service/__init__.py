"""Kumo's network service: the Neutron v2.0 calls clients make, over Kumo's networks,
subnets and ports (kumo_common.db.networks, .ports), for deployments without Neutron.

app.py builds the WSGI app (served on [network_service] listen:listen_port, 9696);
versions.py answers discovery and /v2.0/extensions; networks.py, subnets.py and
ports.py the resources; security_groups.py security groups and their rules (and an
empty floating IP list clients look for); listing.py the filtering, sorting, paging and
field selection every list shares; body.py request bodies; access.py policy checks."""
