"""The BaseHandler family of the design documents, so no service re-writes callback plumbing."""

from common.handlers.base_handler import BaseActionHandler, BaseHandler
from common.handlers.callback_handlers import CallbackReceiverHandler, CallbackSenderHandler
from common.handlers.context_handler import BaseContextHandler

__all__ = [
    "BaseActionHandler",
    "BaseContextHandler",
    "BaseHandler",
    "CallbackReceiverHandler",
    "CallbackSenderHandler",
]
