"""How Kumo's services read and write images: one interface, two catalogs.

* The local catalog (kumo_common.image.local): the `images` tables Kumo's own image
  service writes, read straight from the database. The default: [glance] endpoint
  unset, or naming Kumo's own image service ([image_service] listen:listen_port).
* An external Glance (kumo_common.image.glance): the Glance v2 API at [glance]
  endpoint, with the caller's token (and a service token when [glance] auth_type is
  set). Agents then fetch image data with GET /v2/images/{id}/file and upload
  snapshots with PUT /v2/images/{id}/file.

`api()` returns the one this deployment uses. Everything that reads image metadata
(the compute API's create/rebuild/rescue/createImage, the images proxy, the conductor)
goes through it; nothing outside the local catalog reads the image tables.

This package's own modules (but `local`) import no database code: compute agents,
which have no database, use `glance` to move image data.
"""
from __future__ import annotations

import abc
import urllib.parse

from oslo_config import cfg

from kumo_common import exceptions
from kumo_common.image.model import Image

CONF = cfg.CONF

__all__ = ['Image', 'ImageAPI', 'ImageServiceUnavailable', 'api', 'endpoint',
           'external', 'names_local_service']

_LOCAL_NAMES = ('127.0.0.1', 'localhost', '::1', '0.0.0.0', '::')


class ImageServiceUnavailable(exceptions.KumoException):
    """The image API did not answer, or answered with an error Kumo cannot act on."""
    code = 503
    message = 'The image service is unavailable: %(reason)s'


def names_local_service(endpoint: str, listen: str, listen_port: int) -> bool:
    """Whether `endpoint` is Kumo's own service listening on listen:listen_port."""
    parsed = urllib.parse.urlparse(endpoint)
    host_matches = parsed.hostname == listen or (
        parsed.hostname in _LOCAL_NAMES and listen in _LOCAL_NAMES)
    default_port = 443 if parsed.scheme == 'https' else 80
    return host_matches and (parsed.port or default_port) == listen_port


_catalog_endpoint: list[str | None] = []


def endpoint() -> str | None:
    """The image API's root URL: [glance] endpoint, else (endpoint_from_catalog) the
    service user's catalog entry of type "image", else None (Kumo's own service)."""
    if CONF.glance.endpoint:
        return CONF.glance.endpoint.rstrip('/')
    if not CONF.glance.endpoint_from_catalog:
        return None
    if not _catalog_endpoint:
        from kumo_common import service_http
        session = service_http.session_for('glance')
        if session.auth is None:
            raise ImageServiceUnavailable(
                reason='[glance] endpoint_from_catalog needs [glance] auth_type (a '
                       'service user whose catalog lists the image API)')
        try:
            found = session.get_endpoint(service_type='image',
                                         interface=CONF.glance.catalog_interface,
                                         region_name=CONF.glance.region_name)
        except Exception as exc:  # keystoneauth's errors: Keystone down, bad creds
            raise ImageServiceUnavailable(reason=f'no image API in the catalog: {exc}'
                                          ) from exc
        if not found:
            raise ImageServiceUnavailable(
                reason=f'the catalog has no {CONF.glance.catalog_interface} endpoint '
                       'of service type "image"')
        _catalog_endpoint.append(found.rstrip('/'))
    return _catalog_endpoint[0]


def forget_catalog() -> None:
    """Look the catalog up again next time (tests)."""
    _catalog_endpoint.clear()


def external() -> bool:
    """Whether images live in another service's Glance v2 API (an endpoint() that is
    not Kumo's own image service)."""
    url = endpoint()
    return bool(url) and not names_local_service(
        url, CONF.image_service.listen, CONF.image_service.listen_port)


class ImageAPI(abc.ABC):
    """What Kumo's control plane asks of an image catalog."""

    #: whether image data moves over HTTP (agents download and upload it)
    external: bool = False

    @abc.abstractmethod
    def get(self, ctxt, image_id: str, *, visible: bool = True, session=None) -> Image:
        """The image, or exceptions.ImageNotFound. `visible`: only if the caller may
        see it (another project's private image does not exist for them); False for
        lookups Kumo makes on its own behalf (a server's kernel, a snapshot's base).
        `session`: a database session to read in (the local catalog; ignored else)."""

    def find(self, ctxt, image_id: str | None, *, session=None) -> Image | None:
        """An image Kumo reads on its own behalf (the image a server was built from,
        whose properties its snapshots inherit): None when there is none, or it was
        deleted or made unreadable since."""
        if not image_id:
            return None
        try:
            return self.get(ctxt, image_id, visible=False, session=session)
        except (exceptions.ImageNotFound, exceptions.Forbidden):
            return None

    @abc.abstractmethod
    def list(self, ctxt) -> list[Image]:
        """Every image the caller may see, newest first (the compute images proxy)."""

    @abc.abstractmethod
    def create_snapshot(self, ctxt, image_id: str, fields: dict, *,
                        session=None) -> str | None:
        """Record the new image of a createImage/createBackup in status queued/saving
        (`fields`: kumo_common.image.snapshot.fields). Returns the local file the
        agent writes the data to, or None when the agent uploads it to the image API."""

    @abc.abstractmethod
    def delete(self, ctxt, image_id: str) -> None:
        """Delete an image (and its data); an image already gone is no error."""

    @abc.abstractmethod
    def set_properties(self, ctxt, image_id: str, properties: dict[str, str]) -> None:
        """Make `properties` the image's custom properties (others dropped), because
        the caller asks (the compute image metadata proxy), under the image service's
        rules: exceptions.ImageNotFound if they cannot see it, exceptions.Forbidden
        unless it is their project's (or they are an admin)."""

    @abc.abstractmethod
    def delete_as_caller(self, ctxt, image_id: str) -> None:
        """Delete an image because the caller asks (the compute images proxy), under
        the image service's rules: exceptions.ImageNotFound if they cannot see it,
        exceptions.Forbidden unless it is their project's (or they are an admin), or
        when it is protected."""

    @abc.abstractmethod
    def in_progress(self, ctxt, instance_uuid: str) -> list[str]:
        """Ids of the images made from a server (createImage, createBackup, shelve)
        still waiting for their data."""


def api() -> ImageAPI:
    """The image catalog this deployment uses (see the module's docstring)."""
    if external():
        from kumo_common.image import glance
        return glance.GlanceImageAPI(endpoint())
    from kumo_common.image import local
    return local.LocalImageAPI()
