"""The action catalogue: one contract per action, each handled by exactly one service, each service's handlers
typed by it; callers and handlers share the models (a renamed field fails type checking on both sides)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from pydantic import BaseModel

import common.contracts
from common.contracts.contract import Contract, Pattern
from common.workers.router import ActionRouter

SERVICE_ROUTERS = {
    "management": "agent_management_service.handlers",
    "embedding": "embedding_service.handlers",
    "conversation": "conversation_service.handlers",
    "query": "query_service.handlers",
    "execution": "agent_execution_service.handlers",
    "ingestion": "ingestion_service.handlers",
}
# DESIGN.md §5, the minimum catalogue, plus what the services added since
CATALOGUE = {
    "management.agent.get_config",
    "management.agent.list",
    "management.tenant.resolve_key",
    "management.tenant.resolve",
    "management.tenant.resolve_end_user_token",
    "management.usage.record",
    "management.webhook.dispatch",
    "management.webhook.deliver",
    "conversation.message.save",
    "conversation.messages.save",
    "conversation.history.get",
    "conversation.session.close",
    "conversation.conversation.get",
    "conversation.memory.index",
    "conversation.memory.recall",
    "conversation.memory.unsummarized",
    "conversation.memory.save_summary",
    "execution.memory.summarize",
    "execution.chat.run",
    "execution.task.cancel",
    "orchestrator.chat.event",
    "query.search",
    "query.generate",
    "embedding.generate",
    "ingestion.document.ingest",
    "ingestion.collection.verify",
}


def declared_contracts() -> dict[str, Contract[BaseModel, BaseModel | None]]:
    found: dict[str, Contract[BaseModel, BaseModel | None]] = {}
    for module_info in pkgutil.iter_modules(common.contracts.__path__):
        module = importlib.import_module(f"common.contracts.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, Contract):
                assert found.setdefault(value.action_type, value) is value, f"{value.action_type} declared twice"
    return found


def test_every_catalogue_action_has_one_contract_in_its_owners_module() -> None:
    contracts = declared_contracts()
    assert set(contracts) == CATALOGUE
    for action_type, contract in contracts.items():
        module = importlib.import_module(f"common.contracts.{contract.owner}")
        assert any(value is contract for value in vars(module).values()), action_type
        assert (contract.reply is not None) == (contract.pattern == Pattern.CALL), action_type


def test_each_action_is_handled_by_its_owner_alone_with_its_contract() -> None:
    contracts = declared_contracts()
    handled: dict[str, str] = {}
    for domain, module_name in SERVICE_ROUTERS.items():
        router: ActionRouter[object] = importlib.import_module(module_name).router
        for action_type in router.action_types:
            assert action_type not in handled, f"{action_type} handled by {handled[action_type]} and {domain}"
            handled[action_type] = domain
            route = router.get(action_type)
            assert route is not None and route.contract is contracts[action_type]
            assert route.contract.owner == domain
    callbacks = {t for t, c in contracts.items() if c.pattern == Pattern.CALLBACK}
    assert set(handled) == CATALOGUE - callbacks
    from agent_orchestrator_service.handlers import callback_router

    assert set(callback_router.action_types) == callbacks


@pytest.mark.parametrize("action_type", sorted(CATALOGUE))
def test_requests_refuse_unknown_fields_or_say_why_not(action_type: str) -> None:
    """A misspelt field must not vanish silently on the way to a handler: it is refused."""
    request = declared_contracts()[action_type].request
    extra = request.model_config.get("extra")
    assert extra == "forbid"
