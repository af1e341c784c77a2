"""Kumo's image service: the Glance v2 calls clients and agents use, over the image
catalog (kumo_common.db.images) and a file store, for deployments without Glance.

app.py builds the WSGI app (served on [image_service] listen:listen_port, 9292);
versions.py answers version discovery, images.py the image records (patch.py their
JSON-patch updates), image_data.py the bits (store.py the file store), schemas.py
the JSON schemas Glance serves and validates with."""
