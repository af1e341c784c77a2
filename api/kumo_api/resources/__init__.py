"""API resources: one Flask blueprint per resource."""
