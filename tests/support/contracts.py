"""Contracts of the test-only actions the messaging layer's tests probe it with (`echo.*`, `probe.*`...): their
data is whatever a test sends."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, ConfigDict

from common.contracts.contract import Contract, Pattern, call, callback, send
from common.models.actions import DomainAction


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")

    @classmethod
    def of(cls, **fields: Any) -> Loose:
        return cls.model_validate(fields)

    def get(self, name: str, default: Any = None) -> Any:
        return (self.model_extra or {}).get(name, default)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def loose_call(action_type: str) -> Contract[Loose, Loose]:
    return call(action_type, Loose, Loose)


def loose_send(action_type: str) -> Contract[Loose, None]:
    return send(action_type, Loose)


def loose_callback(action_type: str) -> Contract[Loose, None]:
    return callback(action_type, Loose)


def loose_job(action_type: str) -> Contract[Loose, Loose]:
    """An action whose handler's reply goes back as a callback (the messaging layer's own pattern)."""
    return Contract(action_type, Loose, Loose, Pattern.STREAM)


class Collector:
    """A callback handler that keeps what arrives (`await collector.first(timeout)`)."""

    def __init__(self) -> None:
        self.received: list[DomainAction] = []
        self._arrived = asyncio.Event()

    async def __call__(self, action: DomainAction, data: Loose, deps: object) -> None:
        self.received.append(action)
        self._arrived.set()

    async def first(self, timeout: float) -> DomainAction:
        await asyncio.wait_for(self._arrived.wait(), timeout)
        return self.received[0]
