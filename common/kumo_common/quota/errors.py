"""Over-quota errors: 403s in Nova's words."""
from __future__ import annotations

from kumo_common import exceptions


class QuotaError(exceptions.Forbidden):
    """Over quota: a 403 in Nova's words."""


class TooManyInstances(QuotaError):
    message = ('Quota exceeded for %(overs)s: Requested %(req)s, but already used '
               '%(used)s of %(allowed)s %(overs)s')


class KeypairLimitExceeded(QuotaError):
    message = 'Quota exceeded, too many key pairs.'


class MetadataLimitExceeded(QuotaError):
    message = 'Maximum number of metadata items exceeds %(allowed)d'


class OnsetFileLimitExceeded(QuotaError):
    message = 'Personality file limit exceeded'


class OnsetFilePathLimitExceeded(QuotaError):
    message = 'Personality file path exceeds maximum %(allowed)s'


class OnsetFileContentLimitExceeded(QuotaError):
    message = 'Personality file content exceeds maximum %(allowed)s'


class ServerGroupLimitExceeded(QuotaError):
    message = 'Quota exceeded, too many server groups.'


class GroupMemberLimitExceeded(QuotaError):
    message = 'Quota exceeded, too many servers in group'
