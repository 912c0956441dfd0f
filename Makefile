# Two commands for a fresh machine: `make demo` and `make test`.
# Each bootstraps what it needs: the venv, a Java check, a local Elasticsearch.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
MLMON  := $(BIN)/mlmon

.PHONY: demo test lint unit integration venv es es-down bench clean help

help:
	@echo "make demo   the main job, end to end, on a local Elasticsearch"
	@echo "make test   lint + all tests (starts Elasticsearch if needed)"
	@echo "make es / es-down   start / stop the local Elasticsearch"

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "mlmon needs Python 3.10+ ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,sim]'
	@touch $@

venv: $(BIN)/.installed

es: venv
	$(MLMON) stack up

es-down: venv
	$(MLMON) stack down

lint: venv
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

unit: venv
	$(BIN)/pytest tests/unit

integration: es
	$(BIN)/pytest tests/integration

test: venv es lint
	$(BIN)/pytest

demo: venv
	$(MLMON) demo

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
