from common.settings import CommonSettings


class ExecutionSettings(CommonSettings):
    service_name: str = "agent_execution_service"
    port: int = 8005
