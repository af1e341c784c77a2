"""Command-line entry points of kumo-common."""
