"""Unit tests of kumo_compute (the agent)."""
