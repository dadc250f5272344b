from pydantic import Field

from common.settings import CommonSettings


class ManagementSettings(CommonSettings):
    service_name: str = "agent_management_service"
    port: int = 8003

    webhook_timeout_s: float = Field(10.0, gt=0, le=60)  # one delivery try
    mcp_timeout_s: float = Field(15.0, gt=0, le=120)  # listing an MCP server's tools
    mcp_refresh_interval_s: float = Field(3600.0, ge=10)  # every live server's tools listed again
    webhook_sweep_interval_s: float = Field(300.0, gt=0)  # how often stranded pending deliveries are looked for
    webhook_stale_after_s: float = Field(600.0, gt=0)  # a pending delivery this long past its due try is stranded
    webhook_retry_base_s: float = Field(5.0, gt=0, le=3600)  # tries wait base * 4^n: 5 s, 20 s, 80 s, ... ~30 h
