"""Token counts of a model call whose server reports no usage (llama-cpp-python's server does not while it
streams): counted with the model's own tokenizer where its server offers one (llama-cpp-python's
`/extras/tokenize/count`), else with cl100k (`common.tokens`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from common.llm.settings import LLMSettings, ModelSpec
from common.log import get_logger
from common.tokens import count_tokens

log = get_logger(__name__)
TokenCounter = Callable[[list[str]], Awaitable[list[int]]]
TOKENIZE_TIMEOUT_S = 2.0


async def cl100k(texts: list[str]) -> list[int]:
    return [count_tokens(text) for text in texts]


def token_counter(model: ModelSpec, settings: LLMSettings) -> TokenCounter:
    """How to count `model`'s tokens when its server does not say."""
    if model.provider != "local" or settings.local_chat_model == "scripted":
        return cl100k
    url = settings.local_llm_base_url.rstrip("/").removesuffix("/v1") + "/extras/tokenize/count"

    async def by_the_model(texts: list[str]) -> list[int]:
        try:
            async with httpx.AsyncClient(timeout=TOKENIZE_TIMEOUT_S) as http:
                replies = await asyncio.gather(*(http.post(url, json={"input": text}) for text in texts))
            return [int(reply.raise_for_status().json()["count"]) for reply in replies]
        except (httpx.HTTPError, KeyError, ValueError) as exc:  # the server's tokenizer is a nicety, not a need
            log.warning("model_tokenizer_unavailable", url=url, error=str(exc))
            return await cl100k(texts)

    return by_the_model
