"""Chat models are built once per model spec and provider settings, and never shared across either."""

from __future__ import annotations

from common.llm.factory import build_chat_model
from common.llm.settings import LLMSettings, ModelSpec


def test_a_model_is_built_once_per_spec_and_settings() -> None:
    settings = LLMSettings(openai_api_key="sk-first", openai_base_url="http://127.0.0.1:9/v1")
    spec = ModelSpec(provider="openai", name="gpt-test")
    model = build_chat_model(spec, settings)
    assert build_chat_model(ModelSpec(provider="openai", name="gpt-test"), settings.model_copy()) is model
    others = [
        build_chat_model(spec.model_copy(update={"temperature": 0.9}), settings),
        build_chat_model(spec.model_copy(update={"max_tokens": 64}), settings),
        build_chat_model(spec.model_copy(update={"name": "gpt-other"}), settings),
        build_chat_model(spec, settings.model_copy(update={"openai_api_key": "sk-second"})),
        build_chat_model(spec, settings.model_copy(update={"openai_base_url": "http://127.0.0.1:10/v1"})),
    ]
    assert all(other is not model for other in others)
    assert len({id(other) for other in others}) == len(others)
    assert others[0].temperature == 0.9 and others[3].openai_api_key.get_secret_value() == "sk-second"  # type: ignore[attr-defined]
