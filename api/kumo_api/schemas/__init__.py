"""JSON Schemas of request bodies, as data keyed by microversion window."""
