from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields

from agent_execution_service.clients.conversation_client import ConversationClient
from agent_execution_service.clients.management_client import ManagementClient
from agent_execution_service.clients.query_client import QueryClient
from agent_execution_service.settings import ExecutionSettings
from common.budgets import Budgets
from common.clients.usage_client import UsageClient
from common.clients.webhook_client import WebhookClient
from common.handlers.callback_handlers import CallbackSenderHandler
from common.service import ServiceDeps, open_service_deps

ORIGIN = "execution"


@dataclass
class ExecutionDeps(ServiceDeps):
    settings: ExecutionSettings
    management: ManagementClient
    conversation: ConversationClient
    query: QueryClient
    events: CallbackSenderHandler
    budgets: Budgets
    usage: UsageClient
    webhooks: WebhookClient


@asynccontextmanager
async def open_execution_deps(settings: ExecutionSettings) -> AsyncIterator[ExecutionDeps]:
    async with open_service_deps(settings) as base:
        redis = base.redis
        yield ExecutionDeps(
            **{f.name: getattr(base, f.name) for f in fields(ServiceDeps)},
            management=ManagementClient(redis, settings, ORIGIN),
            conversation=ConversationClient(redis, settings, ORIGIN),
            query=QueryClient(redis, settings, ORIGIN),
            events=CallbackSenderHandler(redis, base.queues, ORIGIN, settings.max_message_bytes),
            budgets=Budgets(redis, base.queues),
            usage=UsageClient(redis, settings, ORIGIN),
            webhooks=WebhookClient(redis, settings, ORIGIN),
        )
