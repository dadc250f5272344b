"""Validation at the edge for what PostgreSQL and the codecs cannot hold, on every route of every service.

Pydantic accepts `\\u0000`, lone surrogates (`\\ud800`) and integers of any size; PostgreSQL refuses the
first in text, UTF-8 cannot encode the second, and BIGINT stops at 2^63-1. Rather than a 500 (or a worker
retrying a refused INSERT until its caller times out), every path, query, JSON body and form value is
checked before the handler runs: 422 with the field's location, nothing stored.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, field_validator
from starlette.requests import HTTPConnection, Request

BIGINT_MAX = 2**63 - 1
_INTEGER = re.compile(r"^[+-]?\d{19,}$")  # shorter ones always fit a BIGINT


def string_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    if "\x00" in value:
        return "must not contain NUL (\\u0000) characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no lone surrogates such as \\ud800)"
    return None


def _too_large(loc: tuple[Any, ...]) -> dict[str, Any]:
    return {"loc": list(loc), "msg": "Integer out of range (|n| <= 2^63-1)", "type": "int_too_large"}


def _problems(value: Any, loc: tuple[Any, ...], found: list[dict[str, Any]], depth: int = 0) -> None:
    if depth > 64 or len(found) >= 20:
        return
    if isinstance(value, str):
        if problem := string_problem(value):
            found.append({"loc": list(loc), "msg": f"Value {problem}", "type": "unrepresentable_string"})
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if abs(value) > BIGINT_MAX:
            found.append(_too_large(loc))
    elif isinstance(value, float):
        if not math.isfinite(value):
            found.append({"loc": list(loc), "msg": "Number must be finite", "type": "number_not_finite"})
    elif isinstance(value, dict):
        for key, item in value.items():
            _problems(key, (*loc, key), found, depth + 1)
            _problems(item, (*loc, key), found, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _problems(item, (*loc, index), found, depth + 1)


def unrepresentable(value: Any) -> list[dict[str, Any]]:
    """The places in a decoded JSON document that no store could hold (for WebSocket frames and the like)."""
    found: list[dict[str, Any]] = []
    _problems(value, (), found)
    return found


def _parameter_problems(value: str, loc: tuple[Any, ...], found: list[dict[str, Any]]) -> None:
    """Path and query values are strings; one that is all digits must also fit a BIGINT."""
    _problems(value, loc, found)
    if _INTEGER.match(value) and abs(int(value)) > BIGINT_MAX:
        found.append(_too_large(loc))


async def reject_unrepresentable(connection: HTTPConnection) -> None:
    """App-wide FastAPI dependency (HTTP and WebSocket routes): raises a 422 listing each bad field."""
    found: list[dict[str, Any]] = []
    for name, value in connection.path_params.items():
        if isinstance(value, str):
            _parameter_problems(value, ("path", name), found)
    for name, value in connection.query_params.multi_items():
        _parameter_problems(value, ("query", name), found)
    if isinstance(connection, Request) and connection.method in {"POST", "PUT", "PATCH"}:
        content_type = connection.headers.get("content-type", "")
        if "json" in content_type:
            try:
                body = json.loads(await connection.body())  # FastAPI has read it already: cached, no second read
            except ValueError:
                body = None  # FastAPI reports malformed JSON itself
            _problems(body, ("body",), found)
        elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            for name, value in (await connection.form()).multi_items():
                if isinstance(value, str):
                    _problems(value, ("body", name), found)
    if found:
        raise RequestValidationError(found)


class PatchModel(BaseModel):
    """A PATCH body: a field left out stays as it is; `null` is refused (422) rather than stored."""

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value
