"""kumo-conductor: orchestrates builds and deletes; the compute agents' path to the DB."""
