from common.clients.base_redis_client import BaseRedisClient

__all__ = ["BaseRedisClient"]
