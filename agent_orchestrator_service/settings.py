from common.settings import CommonSettings


class OrchestratorSettings(CommonSettings):
    service_name: str = "agent_orchestrator_service"
    port: int = 8001
