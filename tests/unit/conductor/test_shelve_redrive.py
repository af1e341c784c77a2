"""shelve / shelveOffload / unshelve across a lost report, an agent restart or a
conductor that died half way: the reaper recovers what the agent finished, or ends
the task truthfully (a shelve that never ran keeps the server as it was and loses its
image; an unshelve of an offloaded server goes back to SHELVED_OFFLOADED with its
claim given back and nothing left on the host)."""
from __future__ import annotations

import uuid as uuidlib

from kumo_common import context, objects, states
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import images as image_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session
from kumo_common.db import snapshots as snapshot_db
from kumo_conductor import shelving
from tests.fixtures import cloud
from tests.unit.conductor.test_heavy_redrive import _DropReports
from tests.unit.conductor.test_redrive import _past, _RedriveTest

task = states.task


class TestShelveRedrive(_RedriveTest):
    OVERRIDES = {(None, 'shelved_offload_time'): -1}

    def asked(self, request_id: str, action: str, uuid: str) -> context.RequestContext:
        ctxt = context.RequestContext(request_id=request_id, user_id='admin',
                                      project_id='admin', overwrite=False)
        with session.transaction() as s:
            instance_db.start_action(s, uuid, action, ctxt)
        return ctxt

    def start_shelve(self, uuid: str, request_id: str) -> tuple[str, context.RequestContext]:
        """What the API leaves when it accepted a shelve."""
        image_id = str(uuidlib.uuid4())
        with session.transaction() as s:
            instance = instance_db.get_instance(s, uuid)
            snapshot_db.create(s, image_id, 'vm-shelved', instance, 'admin', 'snapshot',
                               None)
        ctxt = self.asked(request_id, 'shelve', uuid)
        self.set_row(uuid, task_state=task.SHELVING)
        return image_id, ctxt

    def image_status(self, image_id: str) -> str | None:
        with session.reader() as s:
            try:
                return image_db.get(s, image_id).status
            except Exception:
                return None

    def shelve_params(self, image_id: str) -> objects.ActionParams:
        return objects.ActionParams(snapshot_id=image_id,
                                    snapshot_path=snapshot_db.file_for(image_id))

    def offloaded_server(self) -> tuple[str, str]:
        """A SHELVED_OFFLOADED server (through the API) and its shelve image."""
        uuid, _host = self.active_server()
        resp = self.cloud.request('POST', f'/v2.1/servers/{uuid}/action',
                                  json={'shelve': None})
        self.assertEqual(202, resp.status_code)
        self.cloud.wait_for_status(uuid, 'SHELVED')
        self.wait_for(lambda: self.row(uuid).task_state is None, 'shelved')
        resp = self.cloud.request('POST', f'/v2.1/servers/{uuid}/action',
                                  token=cloud.ADMIN_TOKEN, json={'shelveOffload': None})
        self.assertEqual(202, resp.status_code)
        self.cloud.wait_for_status(uuid, 'SHELVED_OFFLOADED')
        self.wait_for(lambda: self.row(uuid).task_state is None, 'offloaded')
        with session.reader() as s:
            return uuid, shelving.shelved_image_id(s, uuid)

    # --- shelve ------------------------------------------------------------------------
    def test_a_lost_shelve_report_is_recovered_with_its_image(self):
        uuid, host = self.active_server()
        image_id, asked = self.start_shelve(uuid, 'req-lost-shelve')
        manager = self.agent(host).manager
        real = manager.conductor
        manager.conductor = _DropReports()
        manager.conductor.task_progress = lambda *a, **k: None
        try:
            manager.perform_action(asked, uuid, 'shelve', self.shelve_params(image_id))
        finally:
            manager.conductor = real
        self.assertEqual('saving', self.image_status(image_id))
        self.set_row(uuid, task_deadline=_past())
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        self.assertEqual('active', self.image_status(image_id))
        row = self.row(uuid)
        self.assertEqual((states.SHELVED, None), (row.vm_state, row.task_state))
        with session.reader() as s:
            self.assertEqual(image_id, shelving.shelved_image_id(s, uuid))

    def test_a_shelve_that_never_ran_keeps_the_server_and_loses_its_image(self):
        uuid, host = self.active_server()
        image_id, _asked = self.start_shelve(uuid, 'req-never-shelve')
        # It died in a later step: the reaper handles any of them.
        self.set_row(uuid, task_state=task.SHELVING_IMAGE_UPLOADING,
                     task_deadline=_past())
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        self.assertIsNone(self.image_status(image_id))
        view = self.cloud.get_server(uuid)
        self.assertEqual('ACTIVE', view['status'])
        self.assertIsNone(view['OS-EXT-STS:task_state'])
        self.assertEqual(host, view['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(1, self.claims(uuid))

    # --- shelveOffload -------------------------------------------------------------------
    def test_a_lost_offload_report_is_recovered(self):
        uuid, host = self.active_server()
        image_id, asked = self.start_shelve(uuid, 'req-shelve-first')
        self.agent(host).manager.perform_action(asked, uuid, 'shelve',
                                                self.shelve_params(image_id))
        self.wait_for(lambda: self.row(uuid).vm_state == states.SHELVED, 'shelved')
        asked = self.asked('req-lost-offload', 'shelveOffload', uuid)
        self.set_row(uuid, task_state=task.SHELVING_OFFLOADING)
        manager = self.agent(host).manager
        real = manager.conductor
        manager.conductor = _DropReports()
        try:
            manager.perform_action(asked, uuid, 'shelve_offload')
        finally:
            manager.conductor = real
        self.assertEqual([], self.guests(uuid))
        self.set_row(uuid, task_deadline=_past())
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        row = self.row(uuid)
        self.assertEqual((states.SHELVED_OFFLOADED, None, None),
                         (row.vm_state, row.task_state, row.host))
        self.assertEqual(0, self.claims(uuid))

    # --- unshelve --------------------------------------------------------------------------
    def test_an_unshelve_lost_before_scheduling_goes_back_to_offloaded(self):
        uuid, image_id = self.offloaded_server()
        # The API claimed the task and cast to a conductor that died.
        self.asked('req-lost-unshelve', 'unshelve', uuid)
        self.set_row(uuid, task_state=task.UNSHELVING, task_deadline=_past())
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        view = self.cloud.get_server(uuid)
        self.assertEqual('SHELVED_OFFLOADED', view['status'])
        self.assertIsNone(view['OS-EXT-STS:task_state'])
        self.assertEqual(0, self.claims(uuid))
        self.assertEqual('active', self.image_status(image_id))
        # And it can be unshelved again.
        resp = self.cloud.request('POST', f'/v2.1/servers/{uuid}/action',
                                  json={'unshelve': None})
        self.assertEqual(202, resp.status_code)
        self.cloud.wait_for_status(uuid, 'ACTIVE')

    def test_an_unshelve_lost_on_its_way_to_the_host_is_rolled_back(self):
        uuid, image_id = self.offloaded_server()
        # The conductor scheduled it (claim, host recorded) and its cast was lost.
        self.asked('req-lost-cast', 'unshelve', uuid)
        with session.transaction() as s:
            node = s.query(models.ComputeNode).filter_by(host='compute1').one()
            node_db.claim(s, node.id, uuid, 1, 64, 0)
            node_uuid = node.uuid
        self.set_row(uuid, task_state=task.UNSHELVING, host='compute1', node=node.uuid,
                     compute_node_uuid=node_uuid, task_deadline=_past())
        self.assertEqual(1, self.claims(uuid))
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        row = self.row(uuid)
        self.assertEqual((states.SHELVED_OFFLOADED, None, None, None),
                         (row.vm_state, row.task_state, row.host, row.compute_node_uuid))
        self.assertEqual(0, self.claims(uuid))
        self.assertEqual([], self.guests(uuid))
        self.assertEqual('active', self.image_status(image_id))
        view = self.cloud.get_server(uuid)
        self.assertEqual('SHELVED_OFFLOADED', view['status'])
        # Should the lost cast turn up now, the agent refuses it (fenced).
        self.agent('compute1').manager.perform_action(
            context.RequestContext(request_id='req-lost-cast', overwrite=False), uuid,
            'unshelve', objects.ActionParams())
        self.assertEqual([], self.guests(uuid))
