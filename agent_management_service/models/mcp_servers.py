from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from common.contracts.management import MCP_NAME
from common.mcp_client import McpToolInfo

HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$"


class McpServerCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "crm",
                    "url": "https://mcp.example.com/mcp",
                    "transport": "streamable_http",
                    "headers": {"Authorization": "Bearer <token>"},
                }
            ]
        },
    )

    name: str = Field(pattern=MCP_NAME, description="how agents name it: lower case, digits, - and _")
    url: str = Field(min_length=8, max_length=2_000, pattern=r"^https?://[^\s\x00-\x1f]+$")
    transport: Literal["streamable_http", "sse"] = "streamable_http"
    headers: dict[str, str] = Field(
        default_factory=dict, max_length=20, description="sent with every request; stored encrypted, never shown"
    )

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        import re

        for name, content in value.items():
            if not re.match(HEADER_NAME, name):
                raise ValueError(f"not a header name: {name[:100]!r}")
            if len(content) > 8_000 or any(c in content for c in "\r\n\x00"):
                raise ValueError(f"the value of {name} is too long or holds a line break")
        return value


class McpServerOut(BaseModel):
    id: str
    name: str
    url: str
    transport: str
    header_names: list[str] = Field(description="the headers sent (their values are never shown)")
    tools: list[McpToolInfo]
    tools_listed_at: datetime | None
    last_error: str | None = Field(description="why the last listing of its tools failed, if it did")
    created_at: datetime
