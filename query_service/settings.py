from common.settings import CommonSettings


class QuerySettings(CommonSettings):
    service_name: str = "query_service"
    port: int = 8000
