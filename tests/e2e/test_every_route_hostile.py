"""Every route of every service, generated from its own OpenAPI document: each field of each JSON body and each
query parameter gets a NUL byte, an oversized value and a huge number, and each body a payload that is not
UTF-8. Whatever a route makes of it, the answer is never a server error, and no error body carries the store's
statement, a driver's name or a stack frame."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx

from common.launcher.services import SERVICE_PORTS
from tests.e2e.test_hostile_inputs import LEAKS
from tests.support.platform import ChatPlatform, auth

NUL = "a\x00b"
OVERSIZED = "x" * 300_000
HUGE = 10**30
METHODS = ("get", "post", "put", "patch")  # DELETE is left out: a generated id deletes nothing, a real one would


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for key in ("allOf", "anyOf", "oneOf"):
        if options := [o for o in schema.get(key, []) if o.get("type") != "null"]:
            return _resolve(options[0], spec)
    return schema


def _example(schema: dict[str, Any], spec: dict[str, Any], depth: int = 0) -> Any:
    """A value of the schema's shape (every property, optional ones too): what the hostile values go into."""
    schema = _resolve(schema, spec)
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        return {name: _example(prop, spec, depth + 1) for name, prop in schema.get("properties", {}).items()}
    if kind == "array":
        return [_example(schema.get("items", {}), spec, depth + 1)]
    return {"integer": 1, "number": 1.0, "boolean": True}.get(str(kind), "text")


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in _leaves(item, (*path, i))]
    return [(path, value)]


def _replaced(body: Any, path: tuple[Any, ...], new: Any) -> Any:
    body = copy.deepcopy(body)
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return body


def _hostile_for(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return [HUGE]
    if isinstance(value, int | float):
        return [HUGE, -HUGE]
    return [NUL, OVERSIZED, HUGE]


def requests_for(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, httpx keyword arguments) for each hostile request of each operation."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    for template, item in spec["paths"].items():
        path = template
        for name in [p.strip("{}") for p in template.split("/") if p.startswith("{")]:
            path = path.replace("{" + name + "}", str(uuid.uuid4()))
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            params = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
            for param in params:
                for value in (NUL, OVERSIZED[:8_000], HUGE):
                    out.append((method, path, {"params": {param["name"]: str(value)}}))
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            body = _example(content["application/json"]["schema"], spec)
            for leaf, value in _leaves(body) or [((), None)]:
                for hostile in _hostile_for(value):
                    out.append((method, path, {"json": _replaced(body, leaf, hostile) if leaf else hostile}))
            bad_encoding = b'{"name": "\xff\xfe\xc3("}'
            out.append((method, path, {"content": bad_encoding, "headers": {"Content-Type": "application/json"}}))
    return out


async def test_no_route_of_any_service_answers_a_hostile_value_with_a_server_error(
    chat_platform: ChatPlatform,
) -> None:
    key = await chat_platform.new_tenant()
    failures: list[str] = []
    sent, reached = 0, set[str]()
    async with httpx.AsyncClient(timeout=30, headers=auth(key)) as http:
        for service in SERVICE_PORTS:
            base = chat_platform.url(service)
            spec = (await http.get(f"{base}/openapi.json")).json()
            for method, path, kwargs in requests_for(spec):
                headers = {**auth(key), **kwargs.pop("headers", {})}
                response = await http.request(method.upper(), f"{base}{path}", headers=headers, **kwargs)
                sent += 1
                if "json" in kwargs:  # a service whose bodies were reached
                    reached.add(service)
                body = response.text.lower()
                if response.status_code >= 500 or any(leak in body for leak in LEAKS):
                    failures.append(f"{method.upper()} {service}{path}: {response.status_code} {response.text[:200]}")
    assert failures == []
    assert sent >= 250 and reached >= {"agent_management_service", "ingestion_service", "query_service"}, (
        sent,
        reached,
    )
