"""The services `nooble4 up` starts, with their HTTP ports (DESIGN.md §1)."""

SERVICE_PORTS: dict[str, int] = {
    "query_service": 8000,
    "agent_orchestrator_service": 8001,
    "ingestion_service": 8002,
    "agent_management_service": 8003,
    "conversation_service": 8004,
    "agent_execution_service": 8005,
    "embedding_service": 8006,
}
