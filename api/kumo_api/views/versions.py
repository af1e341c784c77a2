"""Version documents (GET /, GET /v2/, GET /v2.1/ and GET /v2.1/versions/{id})."""
from kumo_api import microversion

V21_UPDATED = '2013-07-23T11:33:21Z'
V20_UPDATED = '2025-07-04T12:00:00Z'


def _v21(base: str) -> dict:
    return {
        'id': 'v2.1',
        'links': [{'href': f'{base}/v2.1/', 'rel': 'self'}],
        'status': 'CURRENT',
        'version': str(microversion.MAX),
        'min_version': str(microversion.MIN),
        'updated': V21_UPDATED,
    }


def versions_index(base: str) -> dict:
    return {'versions': [
        {
            'id': 'v2.0',
            'links': [{'href': f'{base}/v2/', 'rel': 'self'}],
            'status': 'DEPRECATED',
            'version': '',
            'min_version': '',
            'updated': V20_UPDATED,
        },
        _v21(base),
    ]}


_DESCRIBED_BY = {'href': 'http://docs.openstack.org/', 'rel': 'describedby',
                 'type': 'text/html'}


def version_v21(base: str) -> dict:
    doc = _v21(base)
    doc['links'].append(dict(_DESCRIBED_BY))
    doc['media-types'] = [{'base': 'application/json',
                           'type': 'application/vnd.openstack.compute+json;version=2.1'}]
    return {'version': doc}


def version_v20(base: str, root: str) -> dict:
    """The deprecated v2.0 API's document; its self link is the API the request came
    through (`root`), as Nova's."""
    return {'version': {
        'id': 'v2.0',
        'links': [{'href': f'{base}{root}/', 'rel': 'self'}, dict(_DESCRIBED_BY)],
        'status': 'DEPRECATED',
        'version': '',
        'min_version': '',
        'updated': V20_UPDATED,
        'media-types': [{'base': 'application/json',
                         'type': 'application/vnd.openstack.compute+json;version=2'}],
    }}


def version_by_id(base: str, version_id: str, root: str = '/v2.1') -> dict | None:
    """GET {root}/versions/{id}: the document of API `version_id` (v2.0 or v2.1), None
    for another id. As Nova's, the v2.0 document's self link is the API the request
    came through, whichever version it describes."""
    if version_id == 'v2.1':
        return version_v21(base)
    if version_id != 'v2.0':
        return None
    return version_v20(base, root)
