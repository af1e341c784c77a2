"""Kumo's database: models, sessions, migrations, and the queries services use.

Only kumo-api, kumo-conductor, kumo-scheduler and kumo-manage import this package;
compute agents reach the database through the conductor.
"""
