from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from pydantic import BaseModel

from common.errors import as_nooble_error
from common.log import get_logger
from common.models.actions import DomainAction, DomainActionResponse
from common.workers.router import ActionRouter, HandlerResult, result_to_dict


class BaseHandler:
    """Explicit async initialisation (`initialize` runs `_async_init` once) and standard responses."""

    def __init__(self) -> None:
        self._initialized = False
        self._init_lock = asyncio.Lock()
        self.log = get_logger(type(self).__name__)

    async def initialize(self) -> None:
        async with self._init_lock:
            if not self._initialized:
                await self._async_init()
                self._initialized = True

    async def _async_init(self) -> None:
        """Override to open connections, warm caches, load models."""

    async def _check_initialized(self) -> None:
        if not self._initialized:
            await self.initialize()

    @staticmethod
    def _create_success_response(action: DomainAction, data: HandlerResult = None) -> DomainActionResponse:
        return DomainActionResponse.ok(action, result_to_dict(data))

    @staticmethod
    def _create_error_response(action: DomainAction, error: BaseException) -> DomainActionResponse:
        return DomainActionResponse.failed(
            action.action_id,
            action.correlation_id or action.action_id,
            action.trace_id,
            as_nooble_error(error).to_detail(),
        )


class BaseActionHandler(BaseHandler):
    """A class-based handler for one action type; `register` puts it on a router."""

    action_type: ClassVar[str]
    payload_model: ClassVar[type[BaseModel] | None] = None

    async def handle(self, action: DomainAction, payload: Any) -> HandlerResult:
        raise NotImplementedError

    async def __call__(self, action: DomainAction, payload: Any, deps: Any) -> HandlerResult:
        await self._check_initialized()
        return await self.handle(action, payload)

    def register(self, router: ActionRouter) -> None:
        router.add(self.action_type, self, self.payload_model)
