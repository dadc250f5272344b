"""One factory for every chat model provider, and the mapping of their failures to typed errors."""

from __future__ import annotations

from typing import Any

from cachetools import LRUCache
from langchain_core.language_models import BaseChatModel
from langchain_groq import ChatGroq
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from common.errors import ActionTimeoutError, DependencyError, NoobleError, RateLimitedError, ValidationError
from common.llm.scripted_model import ScriptedChatModel
from common.llm.settings import LLMSettings, ModelSpec

_models: LRUCache[tuple[Any, ...], BaseChatModel] = LRUCache(maxsize=256)
_PROVIDER_SETTINGS = set(LLMSettings.model_fields)  # what a built model depends on besides its spec


def build_chat_model(model: ModelSpec, settings: LLMSettings) -> BaseChatModel:
    """The chat model for `model`, built once per model and provider settings and then shared: a model object
    holds no per-call state, and building an OpenAI-compatible one costs ~0.4 ms per turn."""
    key = (*model.model_dump().values(), *settings.model_dump(include=_PROVIDER_SETTINGS).values())
    if (built := _models.get(key)) is None:
        built = _models[key] = _build(model, settings)
    return built


def _build(model: ModelSpec, settings: LLMSettings) -> BaseChatModel:
    provider = model.provider
    common = {"temperature": model.temperature, "max_tokens": model.max_tokens, "max_retries": 1}
    if provider == "local" and settings.local_chat_model == "scripted":
        return ScriptedChatModel(token_delay_s=settings.scripted_token_delay_s)
    if provider == "local":
        # ChatOpenAI sends the limit as `max_completion_tokens`, which llama-cpp-python's server (and older
        # OpenAI-compatible servers) ignore: without `max_tokens` too, a local answer runs to the context's end
        limit = {"extra_body": {"max_tokens": model.max_tokens}}
        return _openai_compatible(
            settings.local_llm_model, settings.local_llm_base_url, "local", settings, common | limit
        )
    if provider == "openai":
        if not settings.openai_api_key:
            raise _not_configured("openai")
        return _openai_compatible(model.name, settings.openai_base_url, settings.openai_api_key, settings, common)
    if provider == "groq":
        if not settings.groq_api_key:
            raise _not_configured("groq")
        return ChatGroq(
            model=model.name,
            base_url=settings.groq_base_url,
            api_key=SecretStr(settings.groq_api_key),
            timeout=settings.llm_request_timeout_s,
            **common,
        )
    raise ValidationError(f"unknown model provider {provider!r}", code="unknown_provider")


def _openai_compatible(
    name: str, base_url: str | None, api_key: str, settings: LLMSettings, common: dict[str, Any]
) -> ChatOpenAI:
    return ChatOpenAI(
        model=name,
        base_url=base_url,
        api_key=SecretStr(api_key),
        timeout=settings.llm_request_timeout_s,
        stream_usage=True,
        **common,
    )


def _not_configured(provider: str) -> ValidationError:
    variable = f"NOOBLE4_{provider.upper()}_API_KEY"
    return ValidationError(f"the {provider} provider is not configured ({variable})", code="provider_not_configured")


# The openai and groq SDKs raise classes of the same names; map by name along the MRO.
_LLM_ERRORS: dict[str, tuple[type[NoobleError], str, str]] = {
    "APITimeoutError": (ActionTimeoutError, "llm_timeout", "the language model did not answer in time"),
    "APIConnectionError": (DependencyError, "llm_unavailable", "the language model server cannot be reached"),
    "AuthenticationError": (DependencyError, "llm_auth_failed", "the language model provider refused the API key"),
    "RateLimitError": (RateLimitedError, "llm_rate_limited", "the language model provider is rate limiting"),
    "NotFoundError": (DependencyError, "llm_model_not_found", "the language model provider does not know the model"),
    "APIStatusError": (DependencyError, "llm_error", "the language model provider returned an error"),
}


def llm_error(exc: BaseException) -> NoobleError | None:
    """The typed error for a provider failure, or None when `exc` is not one."""
    for cls in type(exc).__mro__:
        if mapped := _LLM_ERRORS.get(cls.__name__):
            error_class, code, message = mapped
            return error_class(f"{message}: {exc}"[:500], code=code)
    return None
