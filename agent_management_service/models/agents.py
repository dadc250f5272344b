from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from common.models.knowledge import KnowledgeConfig
from common.validation import PatchModel


class ModelProvider(StrEnum):
    LOCAL = "local"
    OPENAI = "openai"
    GROQ = "groq"


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    provider: ModelProvider = ModelProvider.LOCAL
    name: str = Field("smollm2-135m-instruct", min_length=1, max_length=100)
    temperature: float = Field(0.3, ge=0, le=2)
    max_tokens: int = Field(512, ge=1, le=32_768)


class MemoryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_messages: int = Field(20, ge=0, le=1_000)
    max_tokens: int = Field(4_000, ge=0, le=200_000)


class AgentTool(StrEnum):
    KNOWLEDGE = "knowledge"  # kept for old configs: the agent's `knowledge.mode` decides how collections are used
    CALCULATOR = "calculator"
    CURRENT_TIME = "current_time"


class AgentFields(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=2_000)
    system_prompt: str = Field(min_length=1, max_length=20_000)
    model: ModelConfig = Field(default_factory=ModelConfig)
    tools: list[AgentTool] = Field(default_factory=list, max_length=20)
    collection_ids: list[str] = Field(default_factory=list, max_length=50)
    knowledge: KnowledgeConfig = Field(default_factory=KnowledgeConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    is_active: bool = True


class AgentCreate(AgentFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Support bot",
                    "system_prompt": "You answer questions about our products, briefly.",
                    "model": {"provider": "local", "name": "smollm2-135m-instruct", "max_tokens": 256},
                    "tools": ["calculator", "current_time"],
                    "collection_ids": [],
                }
            ]
        }
    )


class AgentUpdate(PatchModel):
    """PATCH: only the fields sent change."""

    model_config = ConfigDict(
        extra="forbid",
        protected_namespaces=(),
        json_schema_extra={"examples": [{"system_prompt": "Answer in Spanish.", "is_active": True}]},
    )

    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=2_000)
    system_prompt: str | None = Field(None, min_length=1, max_length=20_000)
    model: ModelConfig | None = None
    tools: list[AgentTool] | None = Field(None, max_length=20)
    collection_ids: list[str] | None = Field(None, max_length=50)
    knowledge: KnowledgeConfig | None = None
    memory: MemoryConfig | None = None
    is_active: bool | None = None


class AgentOut(AgentFields):
    id: str
    created_at: datetime
    updated_at: datetime


class AgentConfig(AgentOut):
    """What the execution service needs for a turn (`management.agent.get_config`)."""

    tenant_id: str
    timeout_s: int
    max_history_messages: int
    stamp: str | None = None  # the agent's change stamp when read (common.stamps)


class GetConfigRequest(BaseModel):
    agent_id: str = Field(min_length=1, max_length=64)


class ListAgentsRequest(BaseModel):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class FromTemplate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"template_id": "customer-support", "name": "Helpdesk"}]}
    )

    template_id: str
    name: str | None = Field(None, min_length=1, max_length=120)
    collection_ids: list[str] = Field(default_factory=list, max_length=50)


class Template(BaseModel):
    id: str
    name: str
    description: str
    agent: AgentCreate
