# copnet: `make run` serves a demo Network on SQLite, `make test` runs every test on SQLite and PostgreSQL.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export COPNET_ALLOW_PRIVATE_ADDRESSES ?= true

.PHONY: run test lint format bench-help clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/copnet migrate
	$(BIN)/copnet demo
	$(BIN)/copnet serve

# The suite mostly waits on servers, browsers and databases: a few workers (pytest-xdist) share
# the 2 cores well. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 3

test: $(VENV)/.installed
	$(BIN)/python -m tests.interop.setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --require-databases=sqlite,postgresql $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var tests/interop/node_modules
