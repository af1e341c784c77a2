"""Unit tests of kumo_api."""
