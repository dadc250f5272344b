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
