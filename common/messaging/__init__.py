from common.messaging.queue_manager import QueueManager
from common.messaging.redis_manager import RedisManager

__all__ = ["QueueManager", "RedisManager"]
