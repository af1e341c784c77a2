"""Compute API microversions: the range Kumo speaks and how a request picks one.

History (what each version changed; the API reference has the details):
    2.1  - baseline: strict JSON-Schema validation of every body
    2.2  - keypair `type` (ssh/x509); keypair create 201, delete 204
    2.3  - admin-only OS-EXT-SRV-ATTR extras in server views
    2.7  - flavor access to a public flavor -> 409
    2.9  - `locked` in server views
    2.10 - keypairs of other users for admins (`user_id`)
    2.13 - server groups show project_id and user_id
    2.15 - soft-affinity and soft-anti-affinity server group policies
    2.16 - `host_status` in server views (policy)
    2.19 - server `description`
    2.26 - server tags
    2.35 - keypair paging (limit/marker, keypairs_links)
    2.35 - last version with the images proxy API (/images -> 404 from 2.36)
    2.36 - network quotas and limits gone from os-quota-sets and GET /limits
    2.37 - `networks` required on create; "auto"/"none"
    2.38 - invalid `status` list filter -> 400
    2.39 - maxImageMeta gone from GET /limits
    2.47 - embedded flavor in server views
    2.51 - external event volume-extended
    2.55 - flavor `description`; PUT /flavors/{id}
    2.57 - personality quotas and limits gone; personality gone from create
    2.61 - flavor `extra_specs` in flavor views (policy)
    2.63 - trusted_image_certificates
    2.64 - server groups: `policy` and `rules` (max_server_per_host) replace `policies`
    2.67 - block_device_mapping_v2 `volume_type`
    2.69 - down-cell minimal records
    2.71 - `server_groups` in server show
    2.73 - `locked_reason`
    2.75 - unknown query parameters -> 400
           flavor `swap` 0 rather than ""
    2.76 - external event power-update
    2.82 - external event accelerator-request-bound
    2.86 - flavor extra spec values validated
    2.90 - `hostname` on create/update/rebuild, visible to all
    2.92 - keypairs: import only, names may use '@' and '.'
    2.93 - external event volume-reimaged
    2.96 - `pinned_availability_zone`
    2.98 - image properties in server views
    2.100 - `scheduler_hints` in server views (Kumo's maximum)
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import microversion_parse

SERVICE_TYPE = 'compute'
LEGACY_HEADER = 'x-openstack-nova-api-version'
MIN_VERSION = (2, 1)
MAX_VERSION = (2, 100)

_VERSION_RE = re.compile(r'^([1-9]\d*)\.([1-9]\d*|0)$')


class MalformedVersion(ValueError):
    """The header is not of the form X.Y (-> 400)."""


class UnsupportedVersion(ValueError):
    """Well-formed but outside MIN..MAX (-> 406)."""


@dataclass(frozen=True, order=True)
class APIVersion:
    major: int
    minor: int

    def at_least(self, major: int, minor: int) -> bool:
        return (self.major, self.minor) >= (major, minor)

    def at_most(self, major: int, minor: int) -> bool:
        return (self.major, self.minor) <= (major, minor)

    def __str__(self) -> str:
        return f'{self.major}.{self.minor}'


MIN = APIVersion(*MIN_VERSION)
MAX = APIVersion(*MAX_VERSION)


def parse(value: str) -> APIVersion:
    """Turn 'X.Y' or 'latest' into an APIVersion within MIN..MAX."""
    value = value.strip()
    if value.lower() == 'latest':
        return MAX
    match = _VERSION_RE.match(value)
    if not match:
        raise MalformedVersion(f'API Version String {value} is of invalid format. Must be '
                               'of format MajorNum.MinorNum.')
    version = APIVersion(int(match.group(1)), int(match.group(2)))
    if not MIN <= version <= MAX:
        raise UnsupportedVersion(f'Version {value} is not supported by the API. Minimum is '
                                 f'{MIN} and maximum is {MAX}.')
    return version


# Versions asked for, by the values of the two headers that say so (a client sends
# the same ones again and again; folding and parsing them costs more than the rest
# of a version negotiation).
_ASKED: dict[tuple, APIVersion] = {}
_ASKED_MAX = 256


def from_headers(headers) -> APIVersion:
    """The version a request asks for (no header means the minimum, 2.1)."""
    key = (headers.get('OpenStack-API-Version'), headers.get(LEGACY_HEADER))
    version = _ASKED.get(key)
    if version is None:
        version = _negotiate(headers)
        if len(_ASKED) < _ASKED_MAX:
            _ASKED[key] = version
    return version


def _negotiate(headers) -> APIVersion:
    try:
        value = microversion_parse.get_version(headers, service_type=SERVICE_TYPE,
                                               legacy_headers=[LEGACY_HEADER])
    except ValueError as exc:
        raise MalformedVersion(str(exc)) from exc
    if not value:
        return MIN
    return parse(value)


def response_headers(version: APIVersion) -> dict[str, str]:
    return {
        'OpenStack-API-Version': f'{SERVICE_TYPE} {version}',
        'X-OpenStack-Nova-API-Version': str(version),
        'Vary': 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
    }
