"""Client classes of each service's RPC API: what callers import to talk to a service.

The matching endpoint is `<service>/manager.py`; both ends declare the version.
"""
