from common.settings import CommonSettings


class IngestionSettings(CommonSettings):
    service_name: str = "ingestion_service"
    port: int = 8002
