from fastapi import APIRouter
from pydantic import BaseModel

from common.auth import CurrentTenant
from common.contracts.management import ModelProvider
from common.tier_limits import limits_for

router = APIRouter(prefix="/api/v1/models", tags=["models"])


class ModelChoice(BaseModel):
    provider: ModelProvider
    name: str
    description: str


# What the console offers in its model picker; any other name of a provider's own is accepted too.
KNOWN_MODELS = [
    ModelChoice(provider=ModelProvider.LOCAL, name="smollm2-135m-instruct", description="bundled, runs on the CPU"),
    ModelChoice(provider=ModelProvider.OPENAI, name="gpt-4o-mini", description="fast and cheap"),
    ModelChoice(provider=ModelProvider.OPENAI, name="gpt-4.1-mini", description="balanced"),
    ModelChoice(provider=ModelProvider.OPENAI, name="gpt-4o", description="most capable"),
    ModelChoice(provider=ModelProvider.GROQ, name="llama-3.1-8b-instant", description="fast"),
    ModelChoice(provider=ModelProvider.GROQ, name="llama-3.3-70b-versatile", description="most capable"),
]


@router.get("")
async def list_models(tenant: CurrentTenant) -> list[ModelChoice]:
    """List the models an agent may use.

    Known models of the providers the tenant's tier allows (a provider's other model names are accepted too)."""
    allowed = limits_for(tenant.tier).allowed_model_providers
    return [model for model in KNOWN_MODELS if model.provider.value in allowed]
