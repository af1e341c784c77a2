"""Policies of the image service, under Glance's names and with its defaults' intent:
readers read, project members change their project's images, admins anything;
making an image public is for admins. (Which images a caller can see at all is the
catalog's visibility rule, kumo_common.db.images.visible_to.)"""
from oslo_policy import policy

from kumo_api.policies import base

READER = 'rule:context_is_admin or role:reader'


def _rule(name: str, check: str, description: str, method: str, path: str):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': path}], scope_types=['project'])


rules = [
    _rule('get_images', READER, 'List images', 'GET', '/v2/images'),
    _rule('get_image', READER, 'Show an image', 'GET', '/v2/images/{image_id}'),
    _rule('add_image', base.PROJECT_MEMBER_OR_ADMIN, 'Create an image', 'POST',
          '/v2/images'),
    _rule('modify_image', base.PROJECT_MEMBER_OR_ADMIN, 'Update an image', 'PATCH',
          '/v2/images/{image_id}'),
    _rule('publicize_image', base.ADMIN, 'Make an image public', 'PATCH',
          '/v2/images/{image_id}'),
    _rule('communitize_image', base.PROJECT_MEMBER_OR_ADMIN,
          'Make an image a community image', 'PATCH', '/v2/images/{image_id}'),
    _rule('delete_image', base.PROJECT_MEMBER_OR_ADMIN, 'Delete an image', 'DELETE',
          '/v2/images/{image_id}'),
    _rule('upload_image', base.PROJECT_MEMBER_OR_ADMIN, 'Upload image data', 'PUT',
          '/v2/images/{image_id}/file'),
    _rule('download_image', READER, 'Download image data', 'GET',
          '/v2/images/{image_id}/file'),
]


def list_rules():
    return rules
