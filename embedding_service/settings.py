from common.settings import CommonSettings


class EmbeddingSettings(CommonSettings):
    service_name: str = "embedding_service"
    port: int = 8006
