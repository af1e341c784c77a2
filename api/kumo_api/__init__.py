"""kumo-api: the OpenStack Compute API, served by Flask."""
