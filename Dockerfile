# One image for every Nooble4 service; docker-compose.yml picks the service with its command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NOOBLE4_HOST=0.0.0.0

WORKDIR /app
RUN useradd --create-home --uid 10001 nooble4

COPY pyproject.toml README.md ./
COPY common ./common
COPY agent_orchestrator_service ./agent_orchestrator_service
COPY agent_execution_service ./agent_execution_service
COPY agent_management_service ./agent_management_service
COPY query_service ./query_service
COPY embedding_service ./embedding_service
COPY conversation_service ./conversation_service
COPY ingestion_service ./ingestion_service
RUN pip install .

USER nooble4
CMD ["nooble4", "--help"]
