"""What this agent did to each instance, keyed by instance and operation.

An operation is a build attempt, a lifecycle action (keyed by the request id that
asked for it) or a terminate. The ledger makes casts safe to deliver twice (a
re-sent build of the same attempt is not built again; its recorded result is
reported again instead) and lets the conductor's reaper ask what became of an
operation whose report it never received (ComputeManager.check_instance). When the
reaper learns that an operation never arrived, it fences it: should the message
turn up later, it is refused, because the conductor has moved on.

Kept in memory: after an agent restart, the hypervisor's guests are the record.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime
import threading

GO = 'go'
RUNNING = 'running'
DONE = 'done'
FENCED = 'fenced'

TERMINATE = 'terminate'
_MAX_INSTANCES = 10000   # instances remembered (least recently used forgotten)
_MAX_ACTIONS = 20        # finished actions remembered per instance


def build_key(attempt: int) -> str:
    return f'build-{attempt}'


def action_key(request_id: str | None) -> str:
    return f'action-{request_id}'


def expired(deadline: str | None) -> bool:
    """Whether a step's deadline (naive UTC, ISO 8601) has passed on this host's clock."""
    if not deadline:
        return False
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    return datetime.datetime.fromisoformat(deadline) < now


@dataclasses.dataclass
class Check:
    busy: str | None
    build: dict | None
    actions: dict
    fenced: bool


@dataclasses.dataclass
class _Entry:
    busy: dict = dataclasses.field(default_factory=dict)      # op key -> what
    build: dict | None = None                                 # last finished build
    actions: collections.OrderedDict = dataclasses.field(
        default_factory=collections.OrderedDict)              # request id -> record
    fenced: set = dataclasses.field(default_factory=set)      # refused op keys


class Ledger:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries: collections.OrderedDict[str, _Entry] = collections.OrderedDict()

    def _entry(self, uuid: str) -> _Entry:
        entry = self._entries.get(uuid)
        if entry is None:
            entry = self._entries[uuid] = _Entry()
            while len(self._entries) > _MAX_INSTANCES:
                oldest = next(iter(self._entries))
                if self._entries[oldest].busy:
                    break
                del self._entries[oldest]
        else:
            self._entries.move_to_end(uuid)
        return entry

    @staticmethod
    def _done(entry: _Entry, key: str) -> bool:
        if key.startswith('build-'):
            return entry.build is not None and build_key(entry.build['attempt']) == key
        if key.startswith('action-'):
            return key[len('action-'):] in entry.actions
        return False

    def begin(self, uuid: str, key: str, what: str) -> str:
        """Mark an operation as started (GO), or say why it must not run: FENCED,
        RUNNING (already started or queued) or DONE (finished: report it again)."""
        with self._lock:
            entry = self._entry(uuid)
            if key in entry.fenced:
                return FENCED
            if key in entry.busy:
                return RUNNING
            if self._done(entry, key):
                return DONE
            entry.busy[key] = what
            return GO

    def finish(self, uuid: str, key: str, record: dict | None = None) -> None:
        """The operation ended; `record` is its outcome (builds and actions)."""
        with self._lock:
            entry = self._entry(uuid)
            entry.busy.pop(key, None)
            if record is None:
                return
            if key.startswith('build-'):
                entry.build = record
            elif key.startswith('action-'):
                entry.actions[key[len('action-'):]] = record
                while len(entry.actions) > _MAX_ACTIONS:
                    entry.actions.popitem(last=False)

    def build_record(self, uuid: str) -> dict | None:
        with self._lock:
            entry = self._entries.get(uuid)
            return dict(entry.build) if entry and entry.build else None

    def action_record(self, uuid: str, request_id: str | None) -> dict | None:
        with self._lock:
            entry = self._entries.get(uuid)
            record = entry.actions.get(request_id) if entry else None
            return dict(record) if record else None

    def check(self, uuid: str, build_attempt: int | None = None,
              request_id: str | None = None, fence: bool = False) -> Check:
        """What is known of the instance; with `fence`, the build attempt (or else the
        action of `request_id`), if it neither runs nor ran, is refused from now on."""
        with self._lock:
            entry = self._entry(uuid)
            fenced = False
            key = (build_key(build_attempt) if build_attempt is not None
                   else action_key(request_id) if request_id is not None else None)
            if fence and key is not None and key not in entry.busy \
                    and not self._done(entry, key):
                entry.fenced.add(key)
                fenced = True
            return Check(busy=next(iter(entry.busy.values()), None),
                         build=dict(entry.build) if entry.build else None,
                         actions={r: dict(v) for r, v in entry.actions.items()},
                         fenced=fenced)
