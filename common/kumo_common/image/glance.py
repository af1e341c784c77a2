"""An external Glance: the Glance v2 API at [glance] endpoint, over keystoneauth1.

Who Kumo is to Glance, as Nova: each call carries the requesting user's token
(X-Auth-Token; in noauth2 mode the "<user>:<project>" token, which a Glance without
authentication ignores and Kumo's own image service understands). With [glance]
auth_type set, the service user's token goes with it as X-Service-Token (so a user
token that expires during a long snapshot upload is still honoured), and calls made
with no user token at all (periodic work) authenticate as the service user.

No database here: compute agents use GlanceClient to download image data
(GET /v2/images/{id}/file) and to upload snapshots (PUT /v2/images/{id}/file).
"""
from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import IO

from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import exceptions, service_http
from kumo_common.image import ImageAPI, ImageServiceUnavailable
from kumo_common.image.model import Image, from_glance

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

CHUNK = 1 << 20
GROUP = 'glance'
# Glance statuses of an image still waiting for its data (a list filter).
IN_PROGRESS = 'in:queued,saving,uploading'


class ImageNotAuthorized(exceptions.Forbidden):
    message = 'Not authorized for image %(image_id)s.'


def reset() -> None:
    """Forget the keystoneauth session (tests change [glance] options)."""
    service_http.reset(GROUP)


class GlanceClient:
    """The Glance v2 calls Kumo makes, against one endpoint."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint.rstrip('/')

    def file_url(self, image_id: str) -> str:
        return f'{self.endpoint}/v2/images/{image_id}/file'

    def request(self, ctxt, method: str, path: str, *, image_id: str | None = None,
                json=None, data=None, headers: dict | None = None, stream: bool = False,
                ok: tuple[int, ...] = (200, 201, 204)):
        """One call; Glance's errors as Kumo's exceptions."""
        url = path if path.startswith(('http://', 'https://')) else self.endpoint + path
        try:
            resp = service_http.request(
                GROUP, ctxt, method, url, json=json, data=data, headers=headers,
                stream=stream, retries=CONF.glance.num_retries if method == 'GET' else 0)
        except service_http.Unreachable as exc:
            raise ImageServiceUnavailable(reason=str(exc)) from exc
        if resp.status_code in ok:
            return resp
        detail = service_http.error_text(resp)
        resp.close()
        if resp.status_code == 404 and image_id:
            raise exceptions.ImageNotFound(image_id=image_id)
        if resp.status_code in (401, 403) and image_id:
            raise ImageNotAuthorized(image_id=image_id)
        if resp.status_code == 409:
            raise exceptions.Conflict(f'Image service: {detail}')
        if 400 <= resp.status_code < 500:
            raise exceptions.Invalid(f'Image service refused {method} {path}: {detail}')
        raise ImageServiceUnavailable(reason=f'{method} {url}: {resp.status_code} {detail}')

    # --- the calls --------------------------------------------------------------------
    def show(self, ctxt, image_id: str) -> dict:
        return self.request(ctxt, 'GET', f'/v2/images/{_quote(image_id)}',
                            image_id=image_id).json()

    def list(self, ctxt, filters: dict | None = None, page_size: int = 200) -> list[dict]:
        """Every image the filters match, following Glance's `next` links."""
        query = urllib.parse.urlencode({'limit': page_size, **(filters or {})})
        path: str | None = f'/v2/images?{query}'
        images: list[dict] = []
        while path:
            body = self.request(ctxt, 'GET', path).json()
            images.extend(body.get('images', []))
            nxt = body.get('next')
            path = nxt if nxt and body.get('images') else None
        return images

    def create(self, ctxt, body: dict) -> dict:
        return self.request(ctxt, 'POST', '/v2/images', json=body, ok=(201,)).json()

    def update(self, ctxt, image_id: str, changes: dict) -> dict:
        """Set attributes (a JSON patch of `replace`/`add` operations)."""
        return self.patch(ctxt, image_id, [
            {'op': 'replace', 'path': f'/{name}', 'value': value}
            for name, value in changes.items()])

    def patch(self, ctxt, image_id: str, ops: list[dict]) -> dict:
        """PATCH the image with these JSON-patch operations; the image after."""
        return self.request(
            ctxt, 'PATCH', f'/v2/images/{_quote(image_id)}', image_id=image_id, json=ops,
            headers={'Content-Type': 'application/openstack-images-v2.1-json-patch'}
        ).json()

    def delete(self, ctxt, image_id: str) -> None:
        try:
            self.request(ctxt, 'DELETE', f'/v2/images/{_quote(image_id)}',
                         image_id=image_id)
        except exceptions.ImageNotFound:
            pass

    def upload(self, ctxt, image_id: str, data: IO[bytes], size: int | None = None) -> None:
        """PUT the image's data (the image becomes active)."""
        headers = {'Content-Type': 'application/octet-stream'}
        if size is not None:
            headers['Content-Length'] = str(size)
        self.request(ctxt, 'PUT', f'/v2/images/{_quote(image_id)}/file',
                     image_id=image_id, data=data, headers=headers, ok=(200, 201, 204))

    def download(self, ctxt, image_id: str, url: str | None = None) -> Iterator[bytes]:
        """The image's data, in chunks (GET /v2/images/{id}/file, or `url`)."""
        resp = self.request(ctxt, 'GET', url or f'/v2/images/{_quote(image_id)}/file',
                            image_id=image_id, stream=True, ok=(200,))
        try:
            yield from resp.iter_content(CHUNK)
        finally:
            resp.close()


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe='')


class GlanceImageAPI(ImageAPI):
    """kumo_common.image.ImageAPI over an external Glance v2 API."""
    external = True

    def __init__(self, endpoint: str):
        self.client = GlanceClient(endpoint)

    def _image(self, doc: dict) -> Image:
        return from_glance(doc, self.client.file_url(doc['id']))

    def get(self, ctxt, image_id: str, *, visible: bool = True, session=None) -> Image:
        # Glance decides what the token may see; a lookup on Kumo's own behalf uses the
        # same token (or the service user's, when there is none).
        return self._image(self.client.show(ctxt, image_id))

    def list(self, ctxt) -> list[Image]:
        return [self._image(doc) for doc in self.client.list(ctxt)]

    def query(self, ctxt, filters: dict) -> list[Image]:
        """Images matching Glance list filters (custom properties included)."""
        return [self._image(doc) for doc in self.client.list(ctxt, filters)]

    def create_snapshot(self, ctxt, image_id: str, fields: dict, *,
                        session=None) -> str | None:
        body = {'id': image_id, 'name': fields['name'],
                'visibility': fields.get('visibility', 'private'),
                'disk_format': fields['disk_format'],
                'container_format': fields['container_format'],
                'min_ram': int(fields.get('min_ram') or 0),
                'min_disk': int(fields.get('min_disk') or 0)}
        # Glance's schema wants custom properties as strings; an unset one is left out.
        # (The owner is the token's project: Glance sets it.)
        for name, value in (fields.get('properties') or {}).items():
            if value is not None and name not in body:
                body[name] = str(value)
        self.client.create(ctxt, body)
        return None   # the agent uploads the data (kumo_compute.image_upload)

    def delete(self, ctxt, image_id: str) -> None:
        self.client.delete(ctxt, image_id)

    def set_properties(self, ctxt, image_id: str, properties: dict[str, str]) -> None:
        # With the caller's token (Glance decides who may): JSON-patch ops from what
        # the image has now to what it should have.
        current = from_glance(self.client.show(ctxt, image_id), None).properties
        ops = [{'op': 'remove', 'path': f'/{name}'} for name in current
               if name not in properties]
        ops += [{'op': 'add', 'path': f'/{name}', 'value': value}
                for name, value in properties.items() if current.get(name) != value]
        if ops:
            self.client.patch(ctxt, image_id, ops)

    def delete_as_caller(self, ctxt, image_id: str) -> None:
        # With the caller's token: Glance decides (404, 403; ImageNotAuthorized is a
        # Forbidden).
        self.client.request(ctxt, 'DELETE', f'/v2/images/{_quote(image_id)}',
                            image_id=image_id)

    def in_progress(self, ctxt, instance_uuid: str) -> list[str]:
        return [image.id for image in self.query(
            ctxt, {'instance_uuid': instance_uuid, 'status': IN_PROGRESS})]
