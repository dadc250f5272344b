from common.settings import CommonSettings


class ManagementSettings(CommonSettings):
    service_name: str = "agent_management_service"
    port: int = 8003
