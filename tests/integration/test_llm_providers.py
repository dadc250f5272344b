"""The real openai and groq clients, through the provider factory, against a stand-in server on localhost."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from langchain.agents import create_agent
from langchain_core.tools import StructuredTool

from agent_execution_service.services.tools import calculator
from agent_execution_service.settings import ExecutionSettings
from common.errors import NoobleError
from common.launcher.ports import free_port
from common.llm.factory import build_chat_model, llm_error
from common.llm.settings import ModelSpec
from common.local_llm import llama_server_command
from tests.support.helpers import wait_http
from tests.support.openai_standin import API_KEY

# langchain-openai caches its httpx client per process, bound to the first event loop: one loop for the module.
pytestmark = pytest.mark.asyncio(loop_scope="module")


def provider_settings(base: str, api_key: str = API_KEY) -> ExecutionSettings:
    return ExecutionSettings(
        openai_api_key=api_key, openai_base_url=f"{base}/v1", groq_api_key=api_key, groq_base_url=base
    )


async def collect(model, prompt: str) -> tuple[str, list]:
    chunks = [chunk async for chunk in model.astream(prompt)]
    return "".join(chunk.text for chunk in chunks), chunks


async def test_openai_client_streams_tokens_and_usage(openai_standin: str) -> None:
    model = build_chat_model(ModelSpec(provider="openai", name="gpt-test"), provider_settings(openai_standin))
    text, chunks = await collect(model, "hi there")
    assert text == "Hello from gpt-test via /v1/chat/completions: hi there"
    assert len([c for c in chunks if c.text]) > 3  # streamed, not one block
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert usage and usage[-1]["output_tokens"] > 0


async def test_groq_client_posts_to_its_openai_path(openai_standin: str) -> None:
    model = build_chat_model(ModelSpec(provider="groq", name="llama-test"), provider_settings(openai_standin))
    text, _ = await collect(model, "hola")
    assert text == "Hello from llama-test via /openai/v1/chat/completions: hola"


@pytest.mark.parametrize("provider", ["openai", "groq"])
async def test_tool_calling_agent_runs_tools_through_each_client(openai_standin: str, provider: str) -> None:
    model = build_chat_model(ModelSpec(provider=provider, name="tool-test"), provider_settings(openai_standin))
    agent = create_agent(model, [StructuredTool.from_function(calculator)], system_prompt="Use tools.")
    state = await agent.ainvoke({"messages": [{"role": "user", "content": "calc (6 + 1) * 6"}]})
    kinds = [type(m).__name__ for m in state["messages"]]
    assert kinds == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    assert state["messages"][2].content == "42"
    assert state["messages"][-1].content == "Result: 42"


@pytest.mark.parametrize(
    ("model_name", "api_key", "code"),
    [("gpt-test", "wrong-key", "llm_auth_failed"), ("fail-500", API_KEY, "llm_error")],
)
async def test_provider_failures_become_typed_errors(
    openai_standin: str, model_name: str, api_key: str, code: str
) -> None:
    model = build_chat_model(ModelSpec(provider="openai", name=model_name), provider_settings(openai_standin, api_key))
    with pytest.raises(Exception) as caught:
        await collect(model, "hi")
    error = llm_error(caught.value)
    assert error is not None and error.code == code


async def test_unreachable_provider_is_llm_unavailable() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    model = build_chat_model(ModelSpec(provider="openai", name="gpt-test"), provider_settings(closed))
    with pytest.raises(Exception) as caught:
        await collect(model, "hi")
    error = llm_error(caught.value)
    assert error is not None and error.code == "llm_unavailable"


async def test_unconfigured_provider_is_a_clear_error() -> None:
    with pytest.raises(NoobleError) as caught:
        build_chat_model(ModelSpec(provider="groq", name="x"), ExecutionSettings(groq_api_key=None))
    assert caught.value.code == "provider_not_configured"


@pytest.fixture(scope="module")
def local_llm() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(llama_server_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/models", proc, timeout=60)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.kill()
        proc.wait()


async def test_local_provider_answers_with_the_bundled_model(local_llm: str) -> None:
    """The offline default: SmolLM2 served by llama-cpp-python, reached through the same ChatOpenAI path."""
    settings = ExecutionSettings(local_llm_base_url=local_llm)
    model = build_chat_model(ModelSpec(provider="local", name="smollm2", max_tokens=24, temperature=0), settings)
    text, chunks = await collect(model, "What is the capital of France? Answer in one word.")
    assert "paris" in text.lower()
    assert len([c for c in chunks if c.text]) > 1


async def test_the_local_model_stops_at_max_tokens(local_llm: str) -> None:
    """llama-cpp-python's server reads `max_tokens`, not the `max_completion_tokens` ChatOpenAI sends."""
    settings = ExecutionSettings(local_llm_base_url=local_llm)
    model = build_chat_model(ModelSpec(provider="local", name="smollm2", max_tokens=8, temperature=0), settings)
    text, _ = await collect(model, "Write a long story about a lighthouse keeper.")
    assert 0 < len(text.split()) <= 8, text  # 8 tokens make at most 8 words; unbounded, it writes hundreds
