"""Client side of the conductor's RPC API.

Version history:
    1.0 - build_instances, delete_instance, build_finished, instance_destroyed,
          report_node, register_node
    1.1 - action_finished (an agent's result of a lifecycle action), soft_delete_instance
    1.2 - sync_power_states (an agent's guests and power states; Nova's sync rules).
          Its PowerSyncResult 1.1 adds `elsewhere` with a default (an older agent
          drops it, and reaps those strays as before).
    1.3 - action_finished takes `result` (objects.ActionResult: what a heavier action
          such as createImage produced)
    1.4 - unshelve_instance (schedule an offloaded server and spawn it from its shelve
          image), task_progress (an agent's next step of a multi-step action: shelve)
    1.5 - resize: migrate_server (from the API: schedule a resize and start it),
          migration_step_finished (an agent's objects.MigrationStepResult)
    1.6 - action_finished takes `traceback` (of the exception that failed the action:
          the action event's, shown to admins)
    1.7 - evacuate: evacuate_server (from the API: schedule a server whose host is
          down and rebuild it elsewhere), evacuations_from and evacuations_cleaned (a
          returning source agent's clean-up, Nova's _destroy_evacuated_instances)
    1.8 - live_migrate_server (from the API: check and schedule a live migration and
          start it; a call before microversion 2.34, whose answer is why it could
          not start, a cast from 2.34); live migration steps are reported through
          migration_step_finished (MigrationStepResult `aborted`)
    1.9 - live_migration_progress (the source agent's objects.LiveMigrationProgress of
          a live migration's copy, every [compute] live_migration_progress_interval)
"""
import oslo_messaging as messaging
from oslo_config import cfg

from kumo_common import objects, rpc

CONF = cfg.CONF


class ConductorAPI:
    VERSION = '1.9'

    def __init__(self):
        target = messaging.Target(topic=CONF.conductor.topic, version=self.VERSION)
        self.client = rpc.get_client(target, version_cap=self.VERSION)

    # --- from the API --------------------------------------------------------------
    def build_instances(self, ctxt, request_spec: objects.RequestSpec) -> None:
        """Schedule and build every instance of one create request."""
        self.client.prepare().cast(ctxt, 'build_instances', request_spec=request_spec)

    def delete_instance(self, ctxt, instance_uuid: str) -> None:
        """Destroy a server wherever it is and mark it deleted."""
        self.client.prepare().cast(ctxt, 'delete_instance', instance_uuid=instance_uuid)

    def unshelve_instance(self, ctxt, instance_uuid: str) -> None:
        """Place a SHELVED_OFFLOADED server (its request spec says where it may go)
        and have the chosen host spawn it from its shelve image."""
        self.client.prepare(version='1.4').cast(ctxt, 'unshelve_instance',
                                                instance_uuid=instance_uuid)

    # --- from compute agents (their only path to the database) ---------------------
    def task_progress(self, ctxt, instance_uuid: str, host: str, task_state: str) -> None:
        """The action running on the instance reached its step `task_state`."""
        self.client.prepare(version='1.4').cast(ctxt, 'task_progress',
                                                instance_uuid=instance_uuid, host=host,
                                                task_state=task_state)

    def register_node(self, ctxt, report: objects.NodeReport) -> dict:
        """Create or update the agent's service and compute node; returns their ids."""
        return self.client.prepare().call(ctxt, 'register_node', report=report)

    def report_node(self, ctxt, report: objects.NodeReport) -> None:
        """Heartbeat with current capacity."""
        self.client.prepare().cast(ctxt, 'report_node', report=report)

    def build_finished(self, ctxt, result: objects.BuildResult) -> None:
        self.client.prepare().cast(ctxt, 'build_finished', result=result)

    def instance_destroyed(self, ctxt, instance_uuid: str, host: str) -> None:
        self.client.prepare().cast(ctxt, 'instance_destroyed',
                                   instance_uuid=instance_uuid, host=host)

    def action_finished(self, ctxt, instance_uuid: str, host: str, action: str,
                        success: bool, power_state: int, error: str | None = None,
                        result: objects.ActionResult | None = None,
                        traceback: str | None = None) -> None:
        kwargs = {}
        version = '1.1'
        if result is not None:
            kwargs['result'] = result
            version = '1.3'
        if traceback is not None:
            kwargs['traceback'] = traceback
            version = '1.6'
        self.client.prepare(version=version).cast(
            ctxt, 'action_finished', instance_uuid=instance_uuid, host=host, action=action,
            success=success, power_state=power_state, error=error, **kwargs)

    def sync_power_states(self, ctxt, report: objects.PowerStateReport
                          ) -> objects.PowerSyncResult:
        """Apply Nova's power state sync rules to the reported guests (a call: the
        agent retries pending ones and deals with strays)."""
        return self.client.prepare(version='1.2').call(ctxt, 'sync_power_states',
                                                       report=report)

    # --- resize (1.5) ------------------------------------------------------------------
    def migrate_server(self, ctxt, instance_uuid: str, migration_uuid: str) -> None:
        """Find a host for a resize the API accepted, and start it (a cast)."""
        self.client.prepare(version='1.5').cast(ctxt, 'migrate_server',
                                                instance_uuid=instance_uuid,
                                                migration_uuid=migration_uuid)

    def migration_step_finished(self, ctxt, result: objects.MigrationStepResult) -> None:
        self.client.prepare(version='1.5').cast(ctxt, 'migration_step_finished',
                                                result=result)

    # --- evacuate (1.7) ----------------------------------------------------------------
    def evacuate_server(self, ctxt, instance_uuid: str, migration_uuid: str,
                        host: str | None, force: bool, start: bool,
                        on_shared_storage: bool = False) -> None:
        """Find a host for an evacuation the API accepted (`host` checked by the
        scheduler unless `force`) and have it rebuild the server (a cast)."""
        self.client.prepare(version='1.7').cast(
            ctxt, 'evacuate_server', instance_uuid=instance_uuid,
            migration_uuid=migration_uuid, host=host, force=force, start=start,
            on_shared_storage=on_shared_storage)

    # --- live migration (1.8) -----------------------------------------------------------
    def live_migrate_server(self, ctxt, instance_uuid: str, migration_uuid: str,
                            host: str | None, force: bool, block_migration: bool | None,
                            wait: bool = False) -> str | None:
        """Check and schedule a live migration the API accepted (`host` checked by
        the scheduler unless `force`) and start it. With `wait` (Nova's synchronous
        checks before 2.34) a call, answered with why it could not start (None when
        it started); else a cast."""
        kwargs = dict(instance_uuid=instance_uuid, migration_uuid=migration_uuid,
                      host=host, force=force, block_migration=block_migration)
        client = self.client.prepare(version='1.8')
        if wait:
            return client.call(ctxt, 'live_migrate_server', **kwargs)
        client.cast(ctxt, 'live_migrate_server', **kwargs)
        return None

    def live_migration_progress(self, ctxt, migration_uuid: str,
                                progress: objects.LiveMigrationProgress) -> None:
        """How far the source's copy of a running live migration has got (a cast)."""
        self.client.prepare(version='1.9').cast(ctxt, 'live_migration_progress',
                                                migration_uuid=migration_uuid,
                                                progress=progress)

    def evacuations_from(self, ctxt, host: str) -> list[dict]:
        """The evacuations away from `host` its agent has to clean up after:
        [{'migration_uuid', 'instance_uuid'}]."""
        return self.client.prepare(version='1.7').call(ctxt, 'evacuations_from',
                                                       host=host)

    def evacuations_cleaned(self, ctxt, host: str, migration_uuids: list[str]) -> None:
        """`host` destroyed what was left of those evacuated servers."""
        self.client.prepare(version='1.7').call(ctxt, 'evacuations_cleaned', host=host,
                                                migration_uuids=migration_uuids)
