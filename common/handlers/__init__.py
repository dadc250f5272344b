"""Callback helpers of the request/reply patterns: streamed callbacks out, awaited callbacks in.

Actions are handled by plain async functions registered on a `common.workers.router.ActionRouter` (one
typed payload per action type, the deps of the service); the class-based handler family and the execution
context of the seed design are not used: a router of functions gives each handler the same thing (typed
payload, deps, errors mapped once by the worker) without a class per action.
"""

from common.handlers.callback_handlers import CallbackReceiverHandler, CallbackSenderHandler

__all__ = ["CallbackReceiverHandler", "CallbackSenderHandler"]
