"""Default policy rules, one module per resource (documented in policy.yaml.sample)."""
import itertools

from kumo_api.policies import (
    aggregates,
    availability_zones,
    base,
    flavors,
    hypervisors,
    image_service,
    images,
    instance_actions,
    keypairs,
    migrations,
    network_service,
    quota_class_sets,
    quotas,
    scheduler,
    server_actions,
    server_diagnostics,
    server_external_events,
    server_groups,
    server_ips,
    server_metadata,
    server_password,
    server_tags,
    server_topology,
    servers,
    services,
    simple_tenant_usage,
)


def list_rules():
    return list(itertools.chain(base.list_rules(), servers.list_rules(),
                                images.list_rules(), server_actions.list_rules(),
                                services.list_rules(), hypervisors.list_rules(),
                                availability_zones.list_rules(), aggregates.list_rules(),
                                instance_actions.list_rules(), server_metadata.list_rules(),
                                server_tags.list_rules(), flavors.list_rules(),
                                keypairs.list_rules(), quotas.list_rules(),
                                scheduler.list_rules(), image_service.list_rules(),
                                network_service.list_rules(), server_groups.list_rules(),
                                quota_class_sets.list_rules(), migrations.list_rules(),
                                server_ips.list_rules(), server_password.list_rules(),
                                server_external_events.list_rules(),
                                simple_tenant_usage.list_rules(),
                                server_diagnostics.list_rules(),
                                server_topology.list_rules()))
