"""Alembic environment: runs on the connection handed over by `common.migrate`."""

from alembic import context

connection = context.config.attributes["connection"]
schema = context.config.attributes["schema"]

context.configure(connection=connection, version_table_schema=schema, include_schemas=True)
with context.begin_transaction():
    context.run_migrations()
