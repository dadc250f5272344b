"""The services `nooble4 up` starts, with their HTTP ports (DESIGN.md §1)."""

from common.launcher import ports
from common.local_llm import LOCAL_LLM_PORT

SERVICE_PORTS: dict[str, int] = {
    "query_service": 8000,
    "agent_orchestrator_service": 8001,
    "ingestion_service": 8002,
    "agent_management_service": 8003,
    "conversation_service": 8004,
    "agent_execution_service": 8005,
    "embedding_service": 8006,
}

EMBEDDED_REDIS_PORT = 8011  # fixed, so a restarted embedded Redis comes back where the services look for it


def free_port_offset() -> int:
    """A `--port-offset` under which every launcher port is free (tests and benchmarks beside a running one)."""
    return ports.free_port_offset([*SERVICE_PORTS.values(), LOCAL_LLM_PORT, EMBEDDED_REDIS_PORT])
