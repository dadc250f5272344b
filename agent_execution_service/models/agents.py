"""The part of `management.agent.get_config` a turn uses (the management service owns the full model)."""

from pydantic import BaseModel, ConfigDict, Field

from common.llm.settings import ModelSpec
from common.models.knowledge import KnowledgeConfig


class MemorySpec(BaseModel):
    max_messages: int = 20
    max_tokens: int = 4_000


class TurnAgent(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    id: str
    name: str
    system_prompt: str
    model: ModelSpec
    tools: list[str] = Field(default_factory=list)
    collection_ids: list[str] = Field(default_factory=list)
    knowledge: KnowledgeConfig = Field(default_factory=KnowledgeConfig)
    memory: MemorySpec = Field(default_factory=MemorySpec)
    is_active: bool = True
    timeout_s: int = 30
    max_history_messages: int = 20
    stamp: str | None = None  # the agent's change stamp when read (common.stamps)
