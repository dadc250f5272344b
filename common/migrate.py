"""`nooble4 migrate`: create the schema and bring it to the newest revision (Alembic)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from common.database import create_engine
from common.settings import CommonSettings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _upgrade(connection: Connection, schema: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    command.upgrade(config, revision)


async def migrate(settings: CommonSettings, revision: str = "head") -> None:
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{settings.database_schema}"'))
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, settings.database_schema, revision)
    finally:
        await engine.dispose()
