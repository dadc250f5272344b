"""Which tenant the current work belongs to, for PostgreSQL row-level security (migration 0006).

REST requests (after authentication) and worker actions run inside a tenant scope; every transaction
begun inside one switches to the `nooble4_app` role and sets `nooble4.tenant_id` for that transaction
only, in one statement. The database then shows and accepts only that tenant's rows, whatever the query
says. Outside a scope (system work: migrations, the tenant CLI, key resolution, sweepers) transactions run
as the connecting role.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

APP_ROLE = "nooble4_app"
SYSTEM_TENANTS = frozenset({"platform"})  # actions of the platform itself (e.g. resolving an API key)
_current_tenant: ContextVar[str | None] = ContextVar("nooble4_tenant", default=None)


def current_tenant() -> str | None:
    return _current_tenant.get()


def _scoped(tenant_id: str | None) -> str | None:
    return None if tenant_id in SYSTEM_TENANTS else tenant_id


def enter_tenant(tenant_id: str | None) -> None:
    """Scope the rest of the current task to `tenant_id` (a request's or an action's own task)."""
    _current_tenant.set(_scoped(tenant_id))


@contextmanager
def tenant_scope(tenant_id: str | None) -> Iterator[None]:
    token = _current_tenant.set(_scoped(tenant_id))
    try:
        yield
    finally:
        _current_tenant.reset(token)


def install_row_level_security(engine: AsyncEngine) -> None:
    """Every transaction begun in a tenant scope runs as the app role with the tenant set."""

    @event.listens_for(engine.sync_engine, "begin")
    def scope_transaction(connection: Any) -> None:
        tenant_id = _current_tenant.get()
        if tenant_id is not None:
            connection.exec_driver_sql(
                "SELECT set_config('role', $1, true), set_config('nooble4.tenant_id', $2, true)",
                (APP_ROLE, tenant_id),
            )
