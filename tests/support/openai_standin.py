"""A stand-in OpenAI-compatible chat server on localhost, so the real `openai` and `groq` clients are tested
over HTTP without the internet. `python -m tests.support.openai_standin --port N`.

It serves `/v1/chat/completions` (OpenAI) and `/openai/v1/chat/completions` (where the groq client posts),
streaming (SSE) or not, with tool calls:
- the API key must be `test-key` (else 401); model `fail-500` answers 500;
- a user message `calc <expression>` with a `calculator` tool bound → a tool call;
- after a tool message → "Result: <tool output>";
- numbered sources in the system message ("[1] title: text", a grounded answer's prompt) → the first sentence of
  source 1 cited as [1], and a citation [99] that names no source (as careless models write);
- otherwise "Hello from <model> via <path>: <user message>".
Also `/v1/embeddings` (deterministic 1536-d vectors, returned out of order as the API allows) and
`/documents/<name>` (plain text to ingest by URL).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

API_KEY = "test-key"
app = FastAPI()


def _reply(body: dict[str, Any], path: str) -> tuple[str, list[dict[str, Any]]]:
    messages = body.get("messages", [])
    last = messages[-1] if messages else {"role": "user", "content": ""}
    tools = {t["function"]["name"] for t in body.get("tools") or []}
    content = last.get("content") or ""
    if last.get("role") == "tool":
        return f"Result: {content}", []
    system = next((m.get("content") or "" for m in messages if m.get("role") == "system"), "")
    if source := re.search(r"^\[1\] [^:\n]*: ([^.\n]+)", system, re.MULTILINE):
        return f"{source.group(1).strip()} [1] [99].", []
    if "calculator" in tools and content.startswith("calc "):
        call = {
            "id": f"call_{int(time.time() * 1000)}",
            "type": "function",
            "function": {"name": "calculator", "arguments": json.dumps({"expression": content[5:]})},
        }
        return "", [call]
    return f"Hello from {body.get('model')} via {path}: {content}", []


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content") or "").split()) for m in body.get("messages", []))
    completion = len(text.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> str:
    chunk = {
        "id": "chatcmpl-standin",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(chunk)}\n\n"


def _stream(body: dict[str, Any], text: str, calls: list[dict[str, Any]]) -> Iterator[str]:
    yield _chunk(body, {"role": "assistant", "content": ""})
    if calls:
        yield _chunk(body, {"tool_calls": [{"index": i, **call} for i, call in enumerate(calls)]})
        yield _chunk(body, {}, "tool_calls")
    else:
        for i, word in enumerate(text.split(" ")):
            yield _chunk(body, {"content": word if i == 0 else " " + word})
        yield _chunk(body, {}, "stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {
            "id": "chatcmpl-standin",
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": _usage(body, text),
        }
        yield f"data: {json.dumps(usage)}\n\n"
    yield "data: [DONE]\n\n"


@app.post("/v1/chat/completions")
@app.post("/openai/v1/chat/completions")
async def chat_completions(request: Request) -> Any:
    if request.headers.get("authorization") != f"Bearer {API_KEY}":
        return JSONResponse({"error": {"message": "invalid api key", "type": "invalid_request_error"}}, 401)
    body = await request.json()
    if body.get("model") == "fail-500":
        return JSONResponse({"error": {"message": "the stand-in failed on purpose", "type": "server_error"}}, 500)
    text, calls = _reply(body, request.url.path)
    if body.get("stream"):
        return StreamingResponse(_stream(body, text, calls), media_type="text/event-stream")
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": _usage(body, text),
    }


@app.post("/v1/embeddings")
async def embeddings(request: Request) -> Any:
    """Deterministic 1536-d vectors (a text's characters spread over the dimensions), OpenAI-shaped."""
    if request.headers.get("authorization") != f"Bearer {API_KEY}":
        return JSONResponse({"error": {"message": "invalid api key", "type": "invalid_request_error"}}, 401)
    body = await request.json()
    texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
    data = []
    for index, text in enumerate(texts):
        vector = [0.0] * 1536
        for position, char in enumerate(text):
            vector[(ord(char) * 31 + position) % 1536] += 1.0
        data.append({"object": "embedding", "index": index, "embedding": vector})
    tokens = sum(len(text.split()) for text in texts)
    return {
        "object": "list",
        "data": data[::-1],
        "model": body.get("model"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


@app.get("/documents/{name}")
async def document(name: str) -> Any:
    """A document to fetch by URL (ingestion tests)."""
    from fastapi.responses import PlainTextResponse

    return PlainTextResponse(f"Fetched document {name}: the courier pigeon service runs on Mondays.")


@app.get("/v1/models")
async def models() -> dict[str, Any]:
    return {"object": "list", "data": [{"id": "standin", "object": "model"}]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    uvicorn.run(app, host="127.0.0.1", port=parser.parse_args().port, log_level="warning")
