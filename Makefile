# Two commands for a fresh machine: `make demo` and `make test`.
# Each bootstraps what it needs: the venv, a Java check, a local Elasticsearch.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
MLMON  := $(BIN)/mlmon

.PHONY: demo test lint unit integration venv es es-down otelcol browser bench clean help

help:
	@echo "make demo   the main job, end to end, on a local Elasticsearch"
	@echo "make test   lint + all tests (starts Elasticsearch if needed)"
	@echo "make es / es-down   start / stop the local Elasticsearch"
	@echo "make bench  benchmarks (not in make test): bench/RESULTS.md"

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
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# The HTML report test opens reports in Debian's chromium, headless (tests/browser.py).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			DEBIAN_FRONTEND=noninteractive apt-get install -y chromium || \
			{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }; \
		else echo "the HTML report test needs chromium: apt-get install -y chromium"; exit 1; fi; }

unit: venv browser
	$(BIN)/pytest tests/unit

# The OpenTelemetry Collector the forward-hop tests run, built once from Go modules and
# cached beside Elasticsearch (cold: ~6 min on 2 cores, needs Go; see pipelines/otelcol).
otelcol: venv
	$(BIN)/python -m mlmon.stack.collector build

integration: es otelcol
	$(BIN)/pytest tests/integration

test: venv es lint otelcol browser
	$(BIN)/pytest

demo: venv
	$(MLMON) demo

# Not part of `make test`. Evidently and NannyML need pandas < 3, so they get a venv of
# their own; mlmon runs from the main one. Figures: bench/results.json, bench/RESULTS.md.
PEERS := .venv-peers/bin
BENCH_ARGS ?=

$(PEERS)/.installed: Makefile
	$(PYTHON) -m venv .venv-peers
	$(PEERS)/pip install --quiet --upgrade pip
	$(PEERS)/pip install --quiet "evidently==0.7.23" "nannyml==0.13.1" "pandas>=2.1,<3" orjson
	@touch $@

bench: es $(PEERS)/.installed
	$(BIN)/python -m bench.run --peers-python $(PEERS)/python $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-peers .pytest_cache .ruff_cache
