"""kumo-scheduler: the filter scheduler (host states, filters, weighers, claims)."""
