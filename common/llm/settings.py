from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from common.local_llm import LOCAL_MODEL_ALIAS


class LLMSettings(BaseModel):
    """Provider settings, mixed into the settings of every service that calls a chat model."""

    # What serves the `local` provider: llama-cpp-python's OpenAI-compatible server (started by `nooble4 up`),
    # or the deterministic scripted model (tests, benchmarks, demos without a model).
    local_chat_model: Literal["llama", "scripted"] = "llama"
    local_llm_base_url: str = "http://127.0.0.1:8010/v1"  # llama-cpp-python's OpenAI-compatible server
    # The model name sent to that server: the bundled server answers to LOCAL_MODEL_ALIAS whatever GGUF it serves;
    # another OpenAI-compatible server (Ollama, vLLM, llama.cpp's llama-server) wants its own, e.g. "llama3.1:8b".
    local_llm_model: str = LOCAL_MODEL_ALIAS
    # The local model writes grounded answers itself (a capable model): agents whose answer style is `auto` then let
    # it write and cite, as with openai/groq, instead of leading with quotes (the bundled 135M model cannot).
    local_llm_writes_answers: bool = False
    openai_api_key: str | None = None
    openai_base_url: str | None = None  # any OpenAI-compatible server
    groq_api_key: str | None = None
    groq_base_url: str | None = None
    llm_request_timeout_s: float = 60.0
    scripted_token_delay_s: float = Field(0.0, ge=0, le=1)


class ModelSpec(BaseModel):
    """Which chat model to call: the `model` part of an agent's config."""

    model_config = ConfigDict(protected_namespaces=())

    provider: str
    name: str
    temperature: float = 0.3
    max_tokens: int = 512
