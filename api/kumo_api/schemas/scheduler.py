"""Request schemas of the scheduler explain API.

POST /scheduler/dry-run takes exactly the body of POST /servers, validated with the
servers CREATE schema of the request's microversion (schemas.servers.CREATE).
"""
from kumo_api.schemas import servers

DRY_RUN = servers.CREATE
