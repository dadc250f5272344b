from typing import Literal

from pydantic import Field

from common.settings import CommonSettings


class ExecutionSettings(CommonSettings):
    service_name: str = "agent_execution_service"
    port: int = 8005

    # What serves the `local` provider: llama-cpp-python's OpenAI-compatible server (started by `nooble4 up`),
    # or the deterministic scripted model (tests, benchmarks, demos without a model).
    local_chat_model: Literal["llama", "scripted"] = "llama"
    local_llm_base_url: str = "http://127.0.0.1:8010/v1"  # llama-cpp-python's OpenAI-compatible server
    openai_api_key: str | None = None
    openai_base_url: str | None = None  # any OpenAI-compatible server
    groq_api_key: str | None = None
    groq_base_url: str | None = None
    llm_request_timeout_s: float = 60.0

    event_flush_interval_s: float = Field(0.02, gt=0, le=1)  # tokens are coalesced into one event per interval
    cancel_poll_interval_s: float = Field(0.2, gt=0, le=5)
    scripted_token_delay_s: float = Field(0.0, ge=0, le=1)
