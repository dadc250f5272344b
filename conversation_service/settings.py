from common.settings import CommonSettings


class ConversationSettings(CommonSettings):
    service_name: str = "conversation_service"
    port: int = 8004
