"""`python -m agent_management_service.tenant_cli --name Acme [--tier free] [--json]`: create a tenant and
print its first API key (shown once). `nooble4 tenant create` runs it; it works on the database directly
(migrated first), as the platform's operator."""

from __future__ import annotations

import argparse
import asyncio
import json

from agent_management_service.services.tenants import create_tenant
from common.database import create_engine
from common.migrate import migrate
from common.models.tiers import Tier
from common.settings import CommonSettings


async def create(name: str, tier: Tier, as_json: bool) -> int:
    settings = CommonSettings()
    await migrate(settings)
    engine = create_engine(settings)
    try:
        tenant, key = await create_tenant(engine, name, tier)
    finally:
        await engine.dispose()
    if as_json:
        doc = {"tenant_id": tenant.id, "name": tenant.name, "tier": tenant.tier.value, "api_key": key.api_key}
        print(json.dumps({**doc, "key_id": key.id}))
    else:
        print(f"tenant {tenant.name} ({tenant.tier.value}): {tenant.id}")
        print(f"API key (shown once): {key.api_key}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m agent_management_service.tenant_cli", description=__doc__)
    parser.add_argument("--name", required=True)
    parser.add_argument("--tier", default=Tier.FREE.value, choices=[t.value for t in Tier])
    parser.add_argument("--json", action="store_true", help="print the tenant and its key as JSON")
    args = parser.parse_args()
    return asyncio.run(create(args.name, Tier(args.tier), args.json))


if __name__ == "__main__":
    raise SystemExit(main())
