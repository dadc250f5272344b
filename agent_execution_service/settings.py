from pydantic import Field

from common.llm.settings import LLMSettings
from common.settings import CommonSettings


class ExecutionSettings(CommonSettings, LLMSettings):
    service_name: str = "agent_execution_service"
    port: int = 8005

    event_flush_interval_s: float = Field(0.02, gt=0, le=1)  # tokens are coalesced into one event per interval
    cancel_poll_interval_s: float = Field(0.2, gt=0, le=5)
    # a turn's budget reservation lapses this long after its time limit if the turn never settles (worker died)
    budget_hold_grace_s: float = Field(60, ge=0, le=3600)
    mcp_call_timeout_s: float = Field(20.0, gt=0, le=300)  # one MCP tool call, connection included
    tool_output_max_chars: int = Field(8_000, ge=100, le=200_000)  # what a tool hands the model, at most
    web_fetch_max_bytes: int = Field(2_000_000, ge=1_000, le=50_000_000)  # web_fetch / http_request bodies
    web_timeout_s: float = Field(10.0, gt=0, le=120)
