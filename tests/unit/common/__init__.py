"""Unit tests of kumo_common."""
