"""Exceptions shared between services.

Each carries the HTTP code the API answers with when it escapes a request, so the API
maps them to Nova-format errors in one place.
"""


class KumoException(Exception):
    code = 500
    message = 'An unknown exception occurred.'

    def __init__(self, message: str | None = None, **kwargs):
        if message is None:
            message = self.message % kwargs if kwargs else self.message
        self.kwargs = kwargs
        super().__init__(message)

    @property
    def msg(self) -> str:
        return str(self)


class Invalid(KumoException):
    code = 400
    message = 'Unacceptable parameters.'


class Forbidden(KumoException):
    code = 403
    message = 'Forbidden.'


class NotFound(KumoException):
    code = 404
    message = 'Resource could not be found.'


class Conflict(KumoException):
    code = 409
    message = 'Conflict.'


class InstanceNotFound(NotFound):
    message = 'Instance %(instance_id)s could not be found.'


class FlavorNotFound(NotFound):
    message = 'Flavor %(flavor_id)s could not be found.'


class ImageNotFound(NotFound):
    message = 'Image %(image_id)s could not be found.'


class NetworkNotFound(NotFound):
    message = 'Network %(network_id)s could not be found.'


class InstanceGroupNotFound(NotFound):
    message = 'Instance group %(group_uuid)s could not be found.'


class ComputeHostNotFound(NotFound):
    message = 'Compute host %(host)s could not be found.'


class InstanceInvalidState(Conflict):
    message = ('Cannot \'%(action)s\' instance %(instance_uuid)s while it is in '
               '%(attr)s %(state)s')


# trigger_crash_dump on a host (Nova's words: the failed event's details).
class InstanceNotRunning(Invalid):
    message = 'Instance %(instance_id)s is not running.'


class TriggerCrashDumpNotSupported(Invalid):
    message = 'Triggering crash dump is not supported'


class NoValidHost(KumoException):
    code = 500
    message = 'No valid host was found. %(reason)s'


# The reason a server's fault gives when no host passed the filters: Nova's words
# (Nova keeps the filters' verdicts to its scheduler's log; Kumo's are in the
# instance's scheduling report).
NOT_ENOUGH_HOSTS = 'There are not enough hosts available.'


class MaxRetriesExceeded(NoValidHost):
    message = 'Exceeded maximum number of retries. %(reason)s'


class ClaimFailed(Conflict):
    message = 'Could not claim resources on %(host)s: %(reason)s'


class NoFixedIpsAvailable(Conflict):
    message = 'No fixed IP addresses available for network %(network_id)s'


class DBNotSynced(KumoException):
    message = ('The database schema is not at the current revision; run '
               '"kumo-manage db sync".')


# --- flavors and keypairs (Nova's messages) ------------------------------------------

class FlavorExists(Conflict):
    message = 'Flavor with name %(name)s already exists.'


class FlavorIdExists(Conflict):
    message = 'Flavor with ID %(flavor_id)s already exists.'


class FlavorAccessExists(Conflict):
    message = ('Flavor access already exists for flavor %(flavor_id)s and project '
               '%(project_id)s combination.')


class FlavorAccessNotFound(NotFound):
    message = 'Flavor access not found for %(flavor_id)s / %(project_id)s combination.'


class KeypairNotFound(NotFound):
    message = 'Keypair %(name)s not found for user %(user_id)s'


class KeyPairExists(Conflict):
    message = "Key pair '%(key_name)s' already exists."


class InvalidKeypair(Invalid):
    message = 'Keypair data is invalid: %(reason)s'


# --- networks, subnets, ports (Neutron's names and messages) ----------------------------
class SubnetNotFound(NotFound):
    message = 'Subnet %(subnet_id)s could not be found.'


class PortNotFound(NotFound):
    message = 'Port %(port_id)s could not be found.'


class InvalidSubnet(Invalid):
    message = 'Invalid input for operation: %(reason)s.'


class InvalidIpForSubnet(Invalid):
    message = 'IP address %(ip_address)s is not a valid IP for the specified subnet.'


class InvalidIpForNetwork(Invalid):
    message = 'IP address %(ip_address)s is not a valid IP for any of the subnets on the ' \
              'specified network.'


class NetworkInUse(Conflict):
    message = ('Unable to complete operation on network %(net_id)s. There are one or '
               'more ports still in use on the network.')


class SubnetInUse(Conflict):
    message = ('Unable to complete operation on subnet %(subnet_id)s: One or more ports '
               'have an IP allocation from this subnet.')


class GatewayConflictWithAllocationPools(Conflict):
    message = 'Gateway ip %(ip_address)s conflicts with allocation pool %(pool)s.'


class IpAddressAlreadyAllocated(Conflict):
    message = 'IP address %(ip)s already allocated in subnet %(subnet_id)s'


class MacAddressInUse(Conflict):
    message = ('Unable to complete operation for network %(net_id)s. The mac address '
               '%(mac)s is in use.')


class PortInUse(Conflict):
    message = 'Port %(port_id)s is still in use.'


class InterfaceAttachFailed(KumoException):
    """A compute driver could not hot-plug a port (Nova's words)."""
    message = 'Failed to attach network adapter device to %(instance_uuid)s'


class InterfaceDetachFailed(Invalid):
    """A compute driver could not unplug a port (Nova's words)."""
    message = 'Failed to detach network adapter device from %(instance_uuid)s'


class ConsoleTypeUnavailable(Invalid):
    """A remote console type that is disabled, or that the guest does not have."""
    message = 'Unavailable console type %(console_type)s.'


class ConsoleTypeInvalid(Invalid):
    message = 'Invalid console type %(console_type)s'


class SocketPortRangeExhausted(Invalid):
    """No free port is left in [serial_console] port_range."""
    message = 'Not able to acquire a free port for %(host)s'
