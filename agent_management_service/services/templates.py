"""Built-in agent templates: a good starting point for the most common uses."""

from agent_management_service.models.agents import AgentCreate, Template
from common.contracts.management import AgentTool, MemoryConfig

TEMPLATES: dict[str, Template] = {
    template.id: template
    for template in (
        Template(
            id="customer-support",
            name="Customer support",
            description="Answers customers politely from the company's documents and escalates when unsure.",
            agent=AgentCreate(
                name="Customer support",
                system_prompt=(
                    "You are a friendly customer support agent. Answer only from the knowledge base; "
                    "cite the sources you used. If the answer is not there, say so and offer to hand the "
                    "conversation to a human. Keep answers short and concrete."
                ),
                memory=MemoryConfig(max_messages=20, max_tokens=4_000),
            ),
        ),
        Template(
            id="knowledge-base-qa",
            name="Knowledge-base Q&A",
            description="Precise answers with citations from the tenant's collections.",
            agent=AgentCreate(
                name="Knowledge-base assistant",
                system_prompt=(
                    "You answer questions from the company's documents. Quote the relevant facts, cite the "
                    "numbered sources, and say so when the documents do not contain the answer."
                ),
                memory=MemoryConfig(max_messages=10, max_tokens=3_000),
            ),
        ),
        Template(
            id="sales-assistant",
            name="Sales assistant",
            description="Qualifies leads and explains products and prices from the catalogue.",
            agent=AgentCreate(
                name="Sales assistant",
                system_prompt=(
                    "You are a helpful sales assistant. Learn what the customer needs, recommend the "
                    "products from the catalogue that fit, and explain prices honestly. Never invent offers."
                ),
                tools=[AgentTool.CALCULATOR],
            ),
        ),
        Template(
            id="general-assistant",
            name="General assistant",
            description="A concise general-purpose assistant without documents.",
            agent=AgentCreate(
                name="Assistant",
                system_prompt="You are a concise, helpful assistant.",
                tools=[AgentTool.CURRENT_TIME, AgentTool.CALCULATOR],
            ),
        ),
    )
}
