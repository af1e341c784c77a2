"""Comparing responses with Nova's api_samples key by key.

`assert_like(case, sample, actual)` walks both: dicts must have exactly the same
keys, lists the same length, leaves the same value AND type (so "" is not 0 and
1 is not 1.0). Links are compared by what they point at: the sample's host, its
"/v2" or "/v2.1" prefix and its fixed project id are not ours, the rest must be.
Keys named in `skip` (anywhere) are checked for presence only: values that differ
by nature (generated keys, timestamps, ids).
"""
from __future__ import annotations

import json
import os
import urllib.parse

SAMPLES = os.environ.get('KUMO_API_SAMPLES', '/work/shared/reference/api_samples')
# The project id every Nova sample uses.
SAMPLE_PROJECT = '6f70656e737461636b20342065766572'


def load(path: str) -> dict:
    with open(os.path.join(SAMPLES, path)) as f:
        return json.load(f)


def link_target(href: str) -> tuple[bool, str, list]:
    """(versioned?, path without version or sample project, sorted query)."""
    url = urllib.parse.urlsplit(href)
    parts = [p for p in url.path.split('/') if p]
    versioned = bool(parts) and parts[0] in ('v2', 'v2.1')
    if versioned:
        parts = parts[1:]
    if parts and parts[0] == SAMPLE_PROJECT:
        parts = parts[1:]
    return versioned, '/'.join(parts), sorted(urllib.parse.parse_qsl(url.query))


def assert_like(case, sample, actual, skip: tuple = (), where: str = '') -> None:
    if isinstance(sample, dict):
        case.assertIsInstance(actual, dict, where)
        case.assertEqual(sorted(sample), sorted(actual), f'keys at {where or "top"}')
        for key, value in sample.items():
            if key in skip:
                continue
            if key == 'href':
                case.assertEqual(link_target(value), link_target(actual[key]),
                                 f'{where}/href')
                continue
            assert_like(case, value, actual[key], skip, f'{where}/{key}')
    elif isinstance(sample, list):
        case.assertIsInstance(actual, list, where)
        case.assertEqual(len(sample), len(actual), f'length of {where}')
        for index, (s, a) in enumerate(zip(sample, actual, strict=True)):
            assert_like(case, s, a, skip, f'{where}[{index}]')
    else:
        case.assertEqual((type(sample).__name__, sample), (type(actual).__name__, actual),
                         where)
