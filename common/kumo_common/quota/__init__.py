"""Quota: limits (defaults, project and user overrides), usage, and atomic admission.

Modules: `limits` (limits and the checks that need nothing else), `ledger` (usage
rows, locking and charging), `admission` (what callers charge and give back),
`errors`. Callers use the names re-exported here: `quota.admit_instances(...)`.

Limits. Every resource of Nova's quota sets has a default: the 'default' quota
class's limit (os-quota-class-sets, `quota_classes` rows) if an operator set one,
else the [quota] option (the network resources Nova still lists have none and are
-1). An operator overrides a default for a project (a `quotas` row with user_id '')
or for one user of a project (user_id set); a user's effective limit is their
override, else the project's. -1 means unlimited. `server_groups` and the network
resources are per project only. Quota classes other than 'default' are stored and
shown but used for nothing, as in Nova.

Usage. Instances, cores and RAM are counted in a ledger, `quota_usages`, with one row
per (project, '', resource) and one per (project, user, resource). Key pairs belong
to a user whatever the project, so theirs is one row per ('', user, 'key_pairs').
A row is created on first use with what the live rows (instances, keypairs) add up
to, so data that predates the ledger is counted.

Admission. Creating servers (or a key pair) and charging the ledger happen in ONE
transaction, the caller's:

  1. lock the ledger rows involved, one at a time in a fixed order (sorted by
     project, user, resource) with SELECT ... FOR UPDATE. On PostgreSQL and MariaDB
     the row lock is held to commit and a locking read sees the latest committed
     value, whatever the isolation level. SQLite has no row locks and needs none:
     Kumo's writers BEGIN IMMEDIATE (kumo_common.db.session), so write transactions
     run one at a time. The fixed order means two admissions cannot deadlock, and
     releases (decrements) take the same order;
  2. compute how many of min_count..max_count fit under the project's and the
     user's limits (Nova's partial fit: fewer than min_count -> 403);
  3. add the usage with a conditional UPDATE (`in_use + n <= limit`), which would
     refuse rather than overshoot even if step 1 did not hold a lock;
  4. the caller writes its rows; commit releases the locks. A rollback (the
     caller failed after admission) undoes the charge with everything else.

Releasing happens where the resource stops existing, in the same transaction
(instances: the conductor when it marks a server deleted; key pairs: on delete).
Servers in ERROR still count, as in Nova.

Server groups use the same ledger: one row per (project, '', 'server_groups'), and
one per (project, user, 'server_group_members:<group uuid>') counting that user's
live servers in the group (Nova counts members by user). A server that joins a group
is charged in the transaction that creates it (after its instance rows, which keeps
the lock order) and given back with the rest of its usage when it is deleted.

Rows are best created before the admitting transaction (`ensure_usage`, its own
short transaction): creating them inside it also works, but on MariaDB concurrent
first uses of one project could then deadlock (INSERT IGNORE takes a shared lock
that the later FOR UPDATE must upgrade).
"""

from kumo_common.quota.admission import (
    admit_group_members,
    admit_instances,
    admit_keypair,
    admit_resize,
    admit_server_group,
    release_instance,
    release_keypair,
    release_resize,
    release_server_group,
)
from kumo_common.quota.errors import (
    GroupMemberLimitExceeded,
    KeypairLimitExceeded,
    MetadataLimitExceeded,
    OnsetFileContentLimitExceeded,
    OnsetFileLimitExceeded,
    OnsetFilePathLimitExceeded,
    QuotaError,
    ServerGroupLimitExceeded,
    TooManyInstances,
)
from kumo_common.quota.ledger import (
    ensure_server_group_usage,
    ensure_usage,
    settable_range,
    usage,
)
from kumo_common.quota.limits import (
    DEFAULT_CLASS,
    INSTANCE_RESOURCES,
    NETWORK_RESOURCES,
    PER_PROJECT,
    RESOURCES,
    check_injected_files,
    check_metadata_items,
    class_overrides,
    default_limits,
    defaults,
    delete_limits,
    get_class_limits,
    get_limits,
    overrides,
    set_class_limits,
    set_limits,
)

__all__ = [
    'DEFAULT_CLASS', 'INSTANCE_RESOURCES', 'NETWORK_RESOURCES', 'PER_PROJECT', 'RESOURCES',
    'GroupMemberLimitExceeded', 'KeypairLimitExceeded', 'MetadataLimitExceeded',
    'OnsetFileContentLimitExceeded', 'OnsetFileLimitExceeded', 'OnsetFilePathLimitExceeded',
    'QuotaError', 'ServerGroupLimitExceeded', 'TooManyInstances',
    'admit_group_members', 'admit_instances', 'admit_keypair', 'admit_resize',
    'admit_server_group', 'check_injected_files', 'check_metadata_items', 'class_overrides',
    'default_limits', 'defaults', 'delete_limits', 'ensure_server_group_usage',
    'ensure_usage', 'get_class_limits', 'get_limits', 'overrides', 'release_instance',
    'release_keypair', 'release_resize', 'release_server_group', 'set_class_limits',
    'set_limits', 'settable_range', 'usage',
]
