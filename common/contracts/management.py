"""The management service's actions: resolving credentials and tenants, and agents' configs (with the agent
model they share with the execution service that runs them)."""

import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from common.contracts.contract import call, send
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


class MemoryMode(StrEnum):
    """What an agent keeps of a conversation longer than its window: nothing more (`off`), a running summary of
    the older messages, the older messages most relevant to each question (`recall`), or both."""

    OFF = "off"
    SUMMARY = "summary"
    RECALL = "recall"
    BOTH = "both"


class MemoryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_messages: int = Field(20, ge=0, le=1_000)
    max_tokens: int = Field(4_000, ge=0, le=200_000)
    mode: MemoryMode = MemoryMode.RECALL
    recall_k: int = Field(4, ge=1, le=20)  # older messages recalled per question
    summary_after: int = Field(6, ge=2, le=200)  # older messages not in the summary before it is updated
    summary_model: ModelConfig | None = None  # the model that writes the summary; None: the agent's own

    @property
    def recalls(self) -> bool:
        return self.mode in (MemoryMode.RECALL, MemoryMode.BOTH)

    @property
    def summarizes(self) -> bool:
        return self.mode in (MemoryMode.SUMMARY, MemoryMode.BOTH)


class AgentTool(StrEnum):
    KNOWLEDGE = "knowledge"  # kept for old configs: the agent's `knowledge.mode` decides how collections are used
    CALCULATOR = "calculator"
    CURRENT_TIME = "current_time"
    WEB_FETCH = "web_fetch"  # a public URL's readable text (the outbound guard, size caps)
    HTTP_REQUEST = "http_request"  # GET/POST to the hosts in the agent's `http_allowed_hosts` only


MCP_NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"  # an MCP server's name within its tenant
HOST = r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$"


def host_names(value: list[str]) -> list[str]:
    """Host names (with an optional port), lower-cased; a value that is not one is refused."""
    bad = [h for h in value if not re.match(HOST, h)]
    if bad:
        raise ValueError(f"not a host name: {bad[0][:100]!r}")
    return [h.lower() for h in value]


class McpToolRef(BaseModel):
    """A tool of one of the tenant's MCP servers, enabled for an agent."""

    model_config = ConfigDict(extra="forbid")

    server: str = Field(pattern=MCP_NAME)
    tool: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:/-]+$")


class McpToolBinding(BaseModel):
    """What the execution service needs to call an enabled MCP tool; the server's headers stay sealed
    (common.secret_box) on their way over Redis."""

    model_config = ConfigDict(extra="forbid")

    server: str
    tool: str
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=dict)
    url: str
    transport: Literal["streamable_http", "sse"]
    headers_sealed: str | None = None


class TokenBudget(BaseModel):
    """Model tokens (prompt + completion) that may be spent per UTC day and per UTC month; None: no budget of
    its own (a tenant's falls back to its tier's)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"tokens_per_day": 200_000, "tokens_per_month": 4_000_000}]}
    )

    tokens_per_day: int | None = Field(None, ge=1, le=10**12)
    tokens_per_month: int | None = Field(None, ge=1, le=10**13)


BudgetScope = Literal["tenant", "agent"]
BudgetPeriod = Literal["day", "month"]


class BudgetLimit(BaseModel):
    """One budget a turn is checked against: whose (`scope`), over what `period`, and how many tokens."""

    model_config = ConfigDict(extra="forbid")

    scope: BudgetScope
    period: BudgetPeriod
    limit: int = Field(ge=1)


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
    budget: TokenBudget = Field(default_factory=TokenBudget)
    mcp_tools: list[McpToolRef] = Field(default_factory=list, max_length=50)
    http_allowed_hosts: list[str] = Field(default_factory=list, max_length=50)  # for the http_request tool
    is_active: bool = True

    @field_validator("http_allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        return host_names(value)


class AgentOut(AgentFields):
    id: str
    created_at: datetime
    updated_at: datetime


class AgentConfig(AgentOut):
    """What the execution service needs for a turn (`management.agent.get_config`)."""

    tenant_id: str
    timeout_s: int
    max_history_messages: int
    budgets: list[BudgetLimit] = Field(default_factory=list)  # the tenant's (tier or its own) and the agent's
    mcp: list[McpToolBinding] = Field(default_factory=list)  # the enabled MCP tools, ready to call
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
    key_id: str | None = None  # the API key's id, for the audit log (resolve_key)


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


class UsageKind(StrEnum):
    CHAT = "chat"  # a chat turn's model calls
    GENERATE = "generate"  # query.generate (a RAG answer outside chat)
    SUMMARY = "summary"
    EMBEDDING = "embedding"


class UsageRecord(BaseModel):
    """One entry of the usage ledger: a chat turn's model calls, a generate call, or an embedding request.
    `event_id` makes recording idempotent (a redelivered record is stored once)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    event_id: str = Field(min_length=1, max_length=100)
    kind: UsageKind
    occurred_at: datetime
    provider: str = Field(max_length=32)
    model: str = Field(max_length=100)
    prompt_tokens: int = Field(0, ge=0, le=10**9)
    completion_tokens: int = Field(0, ge=0, le=10**9)
    calls: int = Field(1, ge=0, le=10_000)  # model calls (a chat turn with tools makes several)
    latency_ms: float = Field(0, ge=0, le=10**9)
    agent_id: str | None = Field(None, max_length=64)
    end_user_id: str | None = Field(None, max_length=128)
    conversation_id: str | None = Field(None, max_length=64)
    task_id: str | None = Field(None, max_length=64)
    outcome: str = Field("ok", max_length=32)  # ok, or the turn's error code


RECORD_USAGE = send("management.usage.record", UsageRecord)


class WebhookEventType(StrEnum):
    DOCUMENT_READY = "document.ready"
    DOCUMENT_FAILED = "document.failed"
    TURN_COMPLETED = "conversation.turn_completed"
    BUDGET_EXCEEDED = "budget.exceeded"
    TEST = "webhook.test"


class WebhookEvent(BaseModel):
    """Something a tenant's systems may want to hear about; sent to each of its endpoints subscribed to the type.
    `event_id` makes dispatching idempotent (an event dispatched twice is delivered once per endpoint)."""

    model_config = ConfigDict(extra="forbid")

    event_type: WebhookEventType
    event_id: str = Field(min_length=1, max_length=120)
    occurred_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


class DeliverWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delivery_id: str = Field(min_length=1, max_length=64)


DISPATCH_WEBHOOK = send("management.webhook.dispatch", WebhookEvent)
DELIVER_WEBHOOK = send("management.webhook.deliver", DeliverWebhook)
