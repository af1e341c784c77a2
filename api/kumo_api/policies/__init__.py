"""Default policy rules, one module per resource (documented in policy.yaml.sample)."""
import itertools

from kumo_api.policies import base, images, server_actions, servers


def list_rules():
    return list(itertools.chain(base.list_rules(), servers.list_rules(),
                                images.list_rules(), server_actions.list_rules()))
