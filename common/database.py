"""The one store of record: PostgreSQL (+pgvector) through SQLAlchemy's asyncio engine."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from common.settings import CommonSettings
from common.tenancy import install_row_level_security


def async_url(url: str) -> str:
    """Accept plain `postgresql://` / `postgres://` URLs (Supabase, pgserver) and use asyncpg."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql"}:
        parts = parts._replace(scheme="postgresql+asyncpg")
    return urlunsplit(parts)


def create_engine(settings: CommonSettings) -> AsyncEngine:
    engine = create_async_engine(
        async_url(settings.database_url),
        pool_size=settings.database_pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"search_path": f"{settings.database_schema},public"}},
    )
    install_row_level_security(engine)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


async def database_ready(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return True
