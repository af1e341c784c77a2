"""Response views: plain functions from database rows to Nova's JSON, per microversion."""
