"""Sending a streamed action's callbacks.

Actions are handled by plain async functions registered on a `common.workers.router.ActionRouter` against their
contract (`common.contracts`: typed request and reply, the deps of the service); the class-based handler family
and the execution context of the seed design are not used: a router of functions gives each handler the same
thing (typed payload, deps, errors mapped once by the worker) without a class per action. Replies come back
one way, pseudo-sync (`BaseRedisClient.call`); callbacks only carry streamed events.
"""

from common.handlers.callback_handlers import CallbackSenderHandler

__all__ = ["CallbackSenderHandler"]
