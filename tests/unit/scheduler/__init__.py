"""Unit tests of kumo_scheduler."""
