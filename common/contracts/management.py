"""The management service's actions: resolving credentials and tenants, and agents' configs (with the agent
model they share with the execution service that runs them)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from common.contracts.contract import call
from common.llm.settings import ModelSpec
from common.models.knowledge import KnowledgeConfig
from common.models.pagination import Page
from common.models.tiers import Tier

SHA256_HEX = r"^[0-9a-f]{64}$"  # a credential's hash: all that crosses Redis of an API key or end-user token


class KeyScope(StrEnum):
    """What an API key may do: `admin` everything; `read` every GET of the tenant's data; `chat` chat sessions
    (any agent, any end user) and reading conversations: for a backend that only chats."""

    ADMIN = "admin"
    READ = "read"
    CHAT = "chat"


class ModelProvider(StrEnum):
    LOCAL = "local"
    OPENAI = "openai"
    GROQ = "groq"


class ModelConfig(ModelSpec):
    """The model an agent answers with; what `common.llm` builds a chat model from."""

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
    model_config = ConfigDict(extra="forbid")

    agent_id: str = Field(min_length=1, max_length=64)


class ListAgentsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class ResolveKeyRequest(BaseModel):
    """Only the key's SHA-256 crosses Redis: nothing in a stream could be used to authenticate."""

    model_config = ConfigDict(extra="forbid")

    key_hash: str = Field(pattern=SHA256_HEX)


class ResolveTenantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,36}$")


class ResolvedTenant(BaseModel):
    tenant_id: str
    tier: Tier
    allowed_origins: list[str] = Field(default_factory=list)
    scopes: list[str] = Field(default_factory=lambda: [KeyScope.ADMIN.value])
    expires_at: float | None = None  # epoch seconds, for a key that ends


class ResolveEndUserTokenRequest(BaseModel):
    """Only the token's SHA-256 crosses Redis."""

    model_config = ConfigDict(extra="forbid")

    token_hash: str = Field(pattern=SHA256_HEX)


class ResolvedEndUserToken(BaseModel):
    tenant_id: str
    token_id: str
    agent_id: str
    end_user_id: str
    expires_at: float  # epoch seconds
    request_budget: int | None


RESOLVE_KEY = call("management.tenant.resolve_key", ResolveKeyRequest, ResolvedTenant)
RESOLVE_TENANT = call("management.tenant.resolve", ResolveTenantRequest, ResolvedTenant)
RESOLVE_END_USER_TOKEN = call(
    "management.tenant.resolve_end_user_token", ResolveEndUserTokenRequest, ResolvedEndUserToken
)
GET_AGENT_CONFIG = call("management.agent.get_config", GetConfigRequest, AgentConfig)
LIST_AGENTS = call("management.agent.list", ListAgentsRequest, Page[AgentOut])
