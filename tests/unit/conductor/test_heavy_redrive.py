"""The heavier actions (issue 7) across a lost report or an agent restart: the reaper
recovers a snapshot the agent finished (its image becomes active), or ends the task
truthfully (a snapshot that never ran loses its image; a rebuild that never ran is an
ERROR, as its disk may be gone)."""
from __future__ import annotations

import uuid as uuidlib

from kumo_common import context, objects, states
from kumo_common.db import images as image_db
from kumo_common.db import instances as instance_db
from kumo_common.db import session
from kumo_common.db import snapshots as snapshot_db
from tests.unit.conductor.test_redrive import _past, _RedriveTest

task = states.task


class _DropReports:
    """A conductor client whose reports are lost on the way."""

    def action_finished(self, *args, **kwargs):
        return None


class TestSnapshotRedrive(_RedriveTest):

    def start_snapshot(self, uuid: str, request_id: str) -> tuple[str, context.RequestContext]:
        """What the API leaves when it accepted a createImage."""
        asked = context.RequestContext(request_id=request_id, user_id='admin',
                                       project_id='admin', overwrite=False)
        image_id = str(uuidlib.uuid4())
        with session.transaction() as s:
            instance = instance_db.get_instance(s, uuid)
            snapshot_db.create(s, image_id, 'snap', instance, 'admin', 'snapshot', None)
            instance_db.start_action(s, uuid, 'createImage', asked)
        self.set_row(uuid, task_state=task.IMAGE_SNAPSHOT)
        return image_id, asked

    def image_status(self, image_id: str) -> str | None:
        with session.reader() as s:
            try:
                return image_db.get(s, image_id).status
            except Exception:
                return None

    def test_a_lost_snapshot_report_is_recovered_with_its_image(self):
        uuid, host = self.active_server()
        image_id, asked = self.start_snapshot(uuid, 'req-lost-snap')
        manager = self.agent(host).manager
        real = manager.conductor
        manager.conductor = _DropReports()
        try:
            manager.perform_action(asked, uuid, 'snapshot', objects.ActionParams(
                snapshot_id=image_id, snapshot_path=snapshot_db.file_for(image_id)))
        finally:
            manager.conductor = real
        self.assertEqual('saving', self.image_status(image_id))
        self.set_row(uuid, task_deadline=_past())
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        self.assertEqual('active', self.image_status(image_id))
        row = self.row(uuid)
        self.assertIsNone(row.task_state)
        self.assertEqual(states.ACTIVE, row.vm_state)

    def test_a_snapshot_that_never_ran_loses_its_image(self):
        uuid, _host = self.active_server()
        image_id, _asked = self.start_snapshot(uuid, 'req-never-snap')
        self.set_row(uuid, task_deadline=_past())
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        self.assertIsNone(self.image_status(image_id))
        view = self.cloud.get_server(uuid)
        self.assertEqual('ACTIVE', view['status'])
        self.assertIsNone(view['OS-EXT-STS:task_state'])

    def test_a_rebuild_that_never_ran_is_an_error(self):
        uuid, _host = self.active_server()
        asked = context.RequestContext(request_id='req-never-rebuild', user_id='admin',
                                       project_id='admin', overwrite=False)
        with session.transaction() as s:
            instance_db.start_action(s, uuid, 'rebuild', asked)
        self.set_row(uuid, task_state=task.REBUILDING, task_deadline=_past())
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        view = self.cloud.get_server(uuid)
        self.assertEqual('ERROR', view['status'])
        self.assertIn('Task rebuilding timed out', view['fault']['message'])
