"""The services `nooble4 up` starts, with their HTTP ports (DESIGN.md §1)."""

import random
import socket

SERVICE_PORTS: dict[str, int] = {
    "query_service": 8000,
    "agent_orchestrator_service": 8001,
    "ingestion_service": 8002,
    "agent_management_service": 8003,
    "conversation_service": 8004,
    "agent_execution_service": 8005,
    "embedding_service": 8006,
}


def free_port_offset(low: int = 20_000, high: int = 40_000) -> int:
    """A `--port-offset` under which every service port is free (for tests and benchmarks beside a running one)."""
    for _ in range(50):
        offset = random.randrange(low, high, 10)
        try:
            for port in SERVICE_PORTS.values():
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port + offset))
            return offset
        except OSError:
            continue
    raise RuntimeError("no free port range")
