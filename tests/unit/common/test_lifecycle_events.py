"""The instance action events Kumo records are Nova's, name for name.

Nova names an event after the manager method its wrap_instance_event decorates
('<prefix>_<method>': nova/compute/manager.py with prefix 'compute', ComputeTaskManager
in nova/conductor/manager.py with prefix 'conductor') or as its conductor's
EventReporter calls it (no prefix: 'cold_migrate', 'rebuild_server', 'get_image_info',
'schedule_instances'). A client reading os-instance-actions must not tell them apart.
"""
from __future__ import annotations

import testtools

from kumo_common import lifecycle, resize, states

# Each row's event: the compute manager method that does the action in Nova.
NOVA_EVENTS = {
    'stop': 'compute_stop_instance',
    'start': 'compute_start_instance',
    'reboot': 'compute_reboot_instance',
    'reboot_hard': 'compute_reboot_instance',
    'pause': 'compute_pause_instance',
    'unpause': 'compute_unpause_instance',
    'suspend': 'compute_suspend_instance',
    'resume': 'compute_resume_instance',
    'soft_delete': 'compute_soft_delete_instance',
    'restore': 'compute_restore_instance',
    'set_admin_password': 'compute_set_admin_password',
    'snapshot': 'compute_snapshot_instance',
    'backup': 'compute_backup_instance',
    'rebuild': 'compute_rebuild_instance',
    'resize': 'conductor_migrate_server',
    'confirm_resize': 'compute_confirm_resize',
    'revert_resize': 'compute_revert_resize',
    'shelve': 'compute_shelve_instance',
    'shelve_offload': 'compute_shelve_offload_instance',
    'unshelve': 'compute_unshelve_instance',
    'rescue': 'compute_rescue_instance',
    'unrescue': 'compute_unrescue_instance',
    # evacuate: Nova's destination rebuilds the server (its conductor's part is
    # rebuild_server, recorded by kumo_conductor.evacuating).
    'evacuate': 'compute_rebuild_instance',
}


class TestNovaEventNames(testtools.TestCase):

    def test_every_action_records_novas_event(self):
        self.assertEqual(NOVA_EVENTS,
                         {name: a.event for name, a in lifecycle.ACTIONS.items()})

    def test_unshelving_a_shelved_server_only_starts_it(self):
        # Nova's conductor calls the compute's start_instance for a SHELVED server.
        unshelve = lifecycle.get('unshelve')
        self.assertEqual('compute_start_instance', unshelve.event_for(states.SHELVED))
        self.assertEqual('compute_unshelve_instance',
                         unshelve.event_for(states.SHELVED_OFFLOADED))
        self.assertEqual('compute_stop_instance',
                         lifecycle.get('stop').event_for(states.ACTIVE))

    def test_rebuild_is_reported_by_the_conductor_too(self):
        self.assertEqual('rebuild_server', lifecycle.get('rebuild').dispatch_event)
        self.assertEqual({'rebuild'}, {name for name, a in lifecycle.ACTIONS.items()
                                       if a.dispatch_event})

    def test_the_other_events(self):
        self.assertEqual(
            ('compute__do_build_and_run_instance', 'conductor_schedule_and_build_instances',
             'compute_terminate_instance', 'get_image_info', 'schedule_instances'),
            (lifecycle.BUILD_EVENT, lifecycle.SCHEDULE_BUILD_EVENT,
             lifecycle.TERMINATE_EVENT, lifecycle.UNSHELVE_IMAGE_EVENT,
             lifecycle.UNSHELVE_SCHEDULE_EVENT))
        self.assertEqual(('conductor_migrate_server', 'cold_migrate', 'compute_prep_resize'),
                         (resize.SCHEDULE_EVENT, resize.COLD_MIGRATE_EVENT,
                          resize.PREP_EVENT))
        self.assertEqual({'resize_instance': 'compute_resize_instance',
                          'finish_resize': 'compute_finish_resize',
                          'confirm_resize': 'compute_confirm_resize',
                          'revert_resize': 'compute_revert_resize',
                          'finish_revert_resize': 'compute_finish_revert_resize'},
                         resize.EVENTS)
