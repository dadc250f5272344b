from pydantic import Field

from common.settings import CommonSettings


class OrchestratorSettings(CommonSettings):
    service_name: str = "agent_orchestrator_service"
    port: int = 8001

    session_ttl_s: int = Field(24 * 3600, ge=60)  # idle sessions expire; every message renews it
    event_log_ttl_s: int = Field(600, ge=10)  # how long a reconnecting client can catch up on missed events
    event_log_maxlen: int = Field(5_000, ge=100)
    max_chat_sockets: int = Field(4_000, ge=1)  # per replica; each open socket holds one Redis connection
    ws_max_frame_bytes: int = Field(64 * 1024, ge=1_024)
    turn_timeout_cap_s: float | None = Field(None, gt=0)  # a deployment's own limit below the tier table's
    turn_grace_s: float = Field(10.0, ge=0)  # beyond the tier's turn timeout before the orchestrator gives up
    public_ws_url: str | None = None  # e.g. wss://chat.example.com when behind a proxy
    # where the console reaches each API: {"management": "https://...", ...}; default: this host, standard ports
    # shifted as this service's own port is (what `nooble4 up --port-offset` does)
    public_service_urls: dict[str, str] = {}
