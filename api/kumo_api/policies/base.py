"""Rule aliases shared by every resource (Nova's names and meanings)."""
from oslo_policy import policy

ADMIN = 'rule:context_is_admin'
PROJECT_MEMBER_OR_ADMIN = 'rule:project_member_or_admin'
PROJECT_READER_OR_ADMIN = 'rule:project_reader_or_admin'
ANY = '@'
# Service-to-service APIs (Nova's alias of the same name): the `service` role, or an
# admin, since other services' users often have only admin (Nova keeps both).
SERVICE_ROLE = 'rule:service_or_admin'

rules = [
    policy.RuleDefault('context_is_admin', 'role:admin',
                       'Decides what is required for the admin context.'),
    policy.RuleDefault('admin_or_owner', 'is_admin:True or project_id:%(project_id)s',
                       'Kept for policies written against older Nova.'),
    policy.RuleDefault('project_member_api', 'role:member and project_id:%(project_id)s',
                       'A member of the project that owns the resource.'),
    policy.RuleDefault('project_reader_api', 'role:reader and project_id:%(project_id)s',
                       'A reader of the project that owns the resource.'),
    policy.RuleDefault('project_member_or_admin', 'rule:project_member_api or '
                       'rule:context_is_admin', 'Project member or admin.'),
    policy.RuleDefault('project_reader_or_admin', 'rule:project_reader_api or '
                       'rule:context_is_admin', 'Project reader or admin.'),
    policy.RuleDefault('service_api', 'role:service',
                       'Default rule for service-to-service APIs.'),
    policy.RuleDefault('service_or_admin', 'rule:service_api or rule:context_is_admin',
                       'Default rule for service or admin APIs.'),
]


def list_rules():
    return rules
