"""Client side of the compute agent's RPC API (topic "compute", server = host).

Version history:
    1.0 - build_and_run_instance, terminate_instance
    1.1 - perform_action (a kumo_common.lifecycle action on a built guest)
    1.2 - check_instance (what the agent knows of an instance, for the reaper; it may
          fence a build attempt or an action that never arrived)

Payloads evolve within a method version: InstanceBuild 1.2 adds `files` (the
request's personality) with a default, which an older agent simply drops; so does
InstanceBuild 1.3 (`deadline`), and 1.4 (`block_devices`: an older agent makes the
flavor's ephemeral and swap disks only).

    1.3 - perform_action takes `params` (objects.ActionParams: the new password, the
          snapshot target, the rebuild... of the heavier actions)
    1.4 - get_console_output (a call: the guest's console log)
    1.5 - the resize steps, each a cast with an objects.MigrationStep: resize_instance
          (source), finish_resize (destination), confirm_resize (source),
          revert_resize (destination), finish_revert_resize (source)
    1.6 - perform_action runs the shelve actions: 'shelve' (ActionParams 1.1 `offload`;
          ActionResult 1.1 `offloaded`), 'shelve_offload' and 'unshelve' (with a
          `build` from the shelve image when the server was offloaded); sent at 1.6 so
          an older agent refuses them rather than failing half way
    1.7 - get_host_uptime (a call: the hypervisor host's `uptime`, for
          os-hypervisors/{id}/uptime)
    1.8 - get_instance_diagnostics (a call: objects.InstanceDiagnostics of a running
          guest, for /servers/{id}/diagnostics; InstanceInvalidState when it is not
          running)
    1.9 - attach_interface, detach_interface (calls: hot-plug one objects.PortSpec
          into the guest, or unplug it, for os-interface; the API gives and frees the
          port in the network service)
    1.10 - get_serial_console, get_vnc_console (calls: a dict of the host and port
          of the guest's console, read from the live domain, for the API to make a
          console token; ConsoleTypeUnavailable when the agent has that type disabled
          or the guest has no such console)
    1.11 - trigger_crash_dump (a cast: an NMI to the guest; the agent reports the
          outcome as the action's event through conductor.action_finished)
    1.12 - destroy_evacuated (a cast: the agent destroys what it still has of the
          servers evacuated away from it and reports them cleaned, as it does at
          start-up; sent when an evacuation ends while its source agent runs again)
    1.13 - live migration: its steps, each a cast with an objects.MigrationStep 1.2,
          reported by conductor.migration_step_finished: pre_live_migration
          (destination), live_migration (source), post_live_migration_at_destination
          and rollback_live_migration_at_destination (destination); and, to the
          source while live_migration runs, live_migration_abort and
          live_migration_force_complete (casts)

MigrationStep 1.1 adds `old_flavor` and `new_flavor` (the source refuses a resize that
would shrink a disk); an older agent drops them and grows what it can, as before.
"""
import oslo_messaging as messaging
from oslo_config import cfg

from kumo_common import objects, rpc

CONF = cfg.CONF
TOPIC = 'compute'
# Lifecycle actions an agent runs only from 1.6 on.
_SHELVE_ACTIONS = ('shelve', 'shelve_offload', 'unshelve')
# An interface's hot-plug waits for the guest (an unplug, for it to let the device
# go): longer than the agent's usual answer.
INTERFACE_TIMEOUT = 60


class ComputeAPI:
    VERSION = '1.13'

    def __init__(self):
        target = messaging.Target(topic=TOPIC, version=self.VERSION)
        self.client = rpc.get_client(target, version_cap=self.VERSION)

    def build_and_run_instance(self, ctxt, host: str, build: objects.InstanceBuild) -> None:
        self.client.prepare(server=host).cast(ctxt, 'build_and_run_instance', build=build)

    def terminate_instance(self, ctxt, host: str, instance_uuid: str) -> None:
        self.client.prepare(server=host).cast(ctxt, 'terminate_instance',
                                              instance_uuid=instance_uuid)

    def perform_action(self, ctxt, host: str, instance_uuid: str, action: str,
                       params: objects.ActionParams | None = None) -> None:
        """Run a lifecycle action (kumo_common.lifecycle.ACTIONS) on the guest."""
        if params is None and action in _SHELVE_ACTIONS:
            params = objects.ActionParams()
        if params is None:
            self.client.prepare(server=host, version='1.1').cast(
                ctxt, 'perform_action', instance_uuid=instance_uuid, action=action)
            return
        version = '1.6' if action in _SHELVE_ACTIONS else '1.3'
        self.client.prepare(server=host, version=version).cast(
            ctxt, 'perform_action', instance_uuid=instance_uuid, action=action,
            params=params)

    def check_instance(self, ctxt, host: str, instance_uuid: str,
                       build_attempt: int | None = None, request_id: str | None = None,
                       fence: bool = False, timeout: int | None = None
                       ) -> objects.GuestCheck:
        """Ask the agent what it knows of the instance (a call; [conductor]
        agent_rpc_timeout unless `timeout`). With `fence`, the build attempt or the
        action of `request_id`, if it has not reached the agent, is refused should it
        arrive later."""
        return self.client.prepare(
            server=host, version='1.2',
            timeout=timeout or CONF.conductor.agent_rpc_timeout).call(
            ctxt, 'check_instance', instance_uuid=instance_uuid,
            build_attempt=build_attempt, request_id=request_id, fence=fence)

    def get_console_output(self, ctxt, host: str, instance_uuid: str,
                           length: int | None = None) -> str:
        """The last `length` lines (all if None) of the guest's console log."""
        return self.client.prepare(
            server=host, version='1.4', timeout=CONF.conductor.agent_rpc_timeout).call(
            ctxt, 'get_console_output', instance_uuid=instance_uuid, length=length)

    def get_host_uptime(self, ctxt, host: str) -> str | None:
        """The host's `uptime` line; None when its driver cannot tell (API: 501)."""
        return self.client.prepare(
            server=host, version='1.7', timeout=CONF.conductor.agent_rpc_timeout).call(
            ctxt, 'get_host_uptime')

    def get_instance_diagnostics(self, ctxt, host: str, instance_uuid: str
                                 ) -> objects.InstanceDiagnostics | None:
        """What the driver tells of the running guest; None when it cannot tell (API:
        501). Raises exceptions.InstanceInvalidState when the guest is not running."""
        return self.client.prepare(
            server=host, version='1.8', timeout=CONF.conductor.agent_rpc_timeout).call(
            ctxt, 'get_instance_diagnostics', instance_uuid=instance_uuid)

    def attach_interface(self, ctxt, host: str, instance_uuid: str,
                         port: objects.PortSpec) -> None:
        """Hot-plug the port into the guest (its domain's next boot keeps it too).
        Raises exceptions.InterfaceAttachFailed when the driver cannot."""
        self.client.prepare(
            server=host, version='1.9', timeout=INTERFACE_TIMEOUT).call(
            ctxt, 'attach_interface', instance_uuid=instance_uuid, port=port)

    def detach_interface(self, ctxt, host: str, instance_uuid: str,
                         port: objects.PortSpec) -> None:
        """Unplug the port from the guest. Raises exceptions.InterfaceDetachFailed
        when the driver cannot."""
        self.client.prepare(
            server=host, version='1.9', timeout=INTERFACE_TIMEOUT).call(
            ctxt, 'detach_interface', instance_uuid=instance_uuid, port=port)

    def get_serial_console(self, ctxt, host: str, instance_uuid: str) -> dict:
        """{'host', 'port', 'internal_access_path'} of the guest's serial console."""
        return self.client.prepare(
            server=host, version='1.10', timeout=CONF.conductor.agent_rpc_timeout).call(
            ctxt, 'get_serial_console', instance_uuid=instance_uuid)

    def get_vnc_console(self, ctxt, host: str, instance_uuid: str) -> dict:
        """{'host', 'port', 'internal_access_path'} of the guest's VNC server."""
        return self.client.prepare(
            server=host, version='1.10', timeout=CONF.conductor.agent_rpc_timeout).call(
            ctxt, 'get_vnc_console', instance_uuid=instance_uuid)

    def trigger_crash_dump(self, ctxt, host: str, instance_uuid: str) -> None:
        """Have the guest's kernel see a non-maskable interrupt (Nova's crash dump)."""
        self.client.prepare(server=host, version='1.11').cast(
            ctxt, 'trigger_crash_dump', instance_uuid=instance_uuid)

    def destroy_evacuated(self, ctxt, host: str) -> None:
        """Have `host` clean up after the servers evacuated away from it."""
        self.client.prepare(server=host, version='1.12').cast(ctxt, 'destroy_evacuated')

    # --- resize (1.5): each agent's step, reported by conductor.migration_step_finished
    def _migration_step(self, ctxt, host: str, step: objects.MigrationStep) -> None:
        self.client.prepare(server=host, version='1.5').cast(ctxt, step.step, step=step)

    def resize_instance(self, ctxt, step: objects.MigrationStep) -> None:
        """Source: power the guest off and put its files aside."""
        self._migration_step(ctxt, step.source_host, step)

    def finish_resize(self, ctxt, step: objects.MigrationStep) -> None:
        """Destination: the guest with the new flavor, from the files put aside."""
        self._migration_step(ctxt, step.dest_host, step)

    def confirm_resize(self, ctxt, step: objects.MigrationStep) -> None:
        """Source: drop the old guest's files."""
        self._migration_step(ctxt, step.source_host, step)

    def revert_resize(self, ctxt, step: objects.MigrationStep) -> None:
        """Destination: destroy the new guest."""
        self._migration_step(ctxt, step.dest_host, step)

    def finish_revert_resize(self, ctxt, step: objects.MigrationStep) -> None:
        """Source: the old guest back, with its old flavor and disks."""
        self._migration_step(ctxt, step.source_host, step)

    # --- live migration (1.13): each agent's step, reported as the resize steps are ---
    def _live_step(self, ctxt, host: str, step: objects.MigrationStep) -> None:
        self.client.prepare(server=host, version='1.13').cast(ctxt, step.step, step=step)

    def pre_live_migration(self, ctxt, step: objects.MigrationStep) -> None:
        """Destination: get ready to receive the running guest."""
        self._live_step(ctxt, step.dest_host, step)

    def live_migration(self, ctxt, step: objects.MigrationStep) -> None:
        """Source: move the running guest to the destination."""
        self._live_step(ctxt, step.source_host, step)

    def post_live_migration_at_destination(self, ctxt, step: objects.MigrationStep) -> None:
        """Destination: the guest that arrived is this host's now."""
        self._live_step(ctxt, step.dest_host, step)

    def rollback_live_migration_at_destination(self, ctxt, step: objects.MigrationStep
                                               ) -> None:
        """Destination: what pre_live_migration made goes (the guest stayed)."""
        self._live_step(ctxt, step.dest_host, step)

    def live_migration_abort(self, ctxt, host: str, instance_uuid: str,
                             migration_uuid: str) -> None:
        """Source: stop the guest's live migration in progress (it stays here)."""
        self.client.prepare(server=host, version='1.13').cast(
            ctxt, 'live_migration_abort', instance_uuid=instance_uuid,
            migration_uuid=migration_uuid)

    def live_migration_force_complete(self, ctxt, host: str, instance_uuid: str) -> None:
        """Source: make the guest's live migration in progress finish (pause it)."""
        self.client.prepare(server=host, version='1.13').cast(
            ctxt, 'live_migration_force_complete', instance_uuid=instance_uuid)
