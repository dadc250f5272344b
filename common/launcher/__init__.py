"""`nooble4`: the local launcher (embedded Redis and PostgreSQL, the seven services, migrations)."""
