"""Command-line entry points of kumo-api (and kumo-all)."""
