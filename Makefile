# The two commands of the README:
#   make run   - set everything up and start the server (stdio; pass ARGS="--transport streamable-http")
#   make test  - set everything up and run every check: pytest (unit + end-to-end), ruff, mypy
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
AS_DIR := tests/e2e/authserver

.PHONY: run test setup clean

$(BIN)/oscal-mcp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[auth,redis,test]'
	touch $@

setup: $(BIN)/oscal-mcp
	@if [ -f $(AS_DIR)/package-lock.json ]; then \
		cd $(AS_DIR) && npm ci --no-audit --no-fund --loglevel=error; fi

run: $(BIN)/oscal-mcp
	$(BIN)/oscal-mcp $(ARGS)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(AS_DIR)/node_modules .pytest_cache .mypy_cache .ruff_cache
