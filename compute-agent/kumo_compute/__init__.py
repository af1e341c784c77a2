"""kumo-compute: the per-node agent that runs guests through a virt driver.

It never opens a database connection: everything it learns or changes goes through
the conductor's RPC API.
"""
