from pydantic import BaseModel, ConfigDict, Field, field_validator

from common.contracts.management import (
    AgentFields,
    AgentTool,
    McpToolRef,
    MemoryConfig,
    ModelConfig,
    TokenBudget,
    host_names,
)
from common.models.knowledge import KnowledgeConfig
from common.validation import PatchModel


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
    budget: TokenBudget | None = None
    mcp_tools: list[McpToolRef] | None = Field(None, max_length=50)
    http_allowed_hosts: list[str] | None = Field(None, max_length=50)
    is_active: bool | None = None

    @field_validator("http_allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else host_names(value)


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
