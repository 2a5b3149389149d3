# Two commands: `make demo` (set up, scan the bundled examples) and `make test` (set up, run every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# Extra pip flags, e.g. PIP_FLAGS=--no-cache-dir
PIP_FLAGS ?= --disable-pip-version-check --progress-bar off -q

.PHONY: demo test bench lint typecheck clean install-demo install-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install $(PIP_FLAGS) --upgrade pip

# The demo installs ingestguard as a user would: a wheel built from this tree (shipped configs included).
$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(PIP) install $(PIP_FLAGS) .
	rm -f $(VENV)/.test-installed
	touch $@

$(VENV)/.test-installed: pyproject.toml package-lock.json | $(BIN)/python
	$(PIP) install $(PIP_FLAGS) -e '.[dev]'
	npm ci --no-audit --no-fund --loglevel=error   # Azurite, the Azure Storage emulator the tests start
	@# Headless Chromium renders the HTML change report in its test: Debian's package, installed as root where
	@# apt-get exists and chromium does not; anywhere else that one test is skipped and says why.
	command -v chromium >/dev/null || ! command -v apt-get >/dev/null || [ "$$(id -u)" != 0 ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium)
	@command -v chromium >/dev/null || echo "note: no chromium (Debian: apt-get install chromium); the report's browser test will be skipped"
	rm -f $(VENV)/.demo-installed
	touch $@

install-demo: $(VENV)/.demo-installed
install-test: $(VENV)/.test-installed

demo: install-demo
	@rm -rf out/demo
	$(BIN)/ingestguard scan examples --out out/demo
	@echo "results: out/demo/{documents,findings,objects}.parquet and out/demo/summary.json"

test: install-test
	$(BIN)/python -m pytest -q

# The benchmark (minutes, not part of `make test`): prints tables, writes benchmarks/results/latest.json.
bench: install-test
	$(BIN)/python -m benchmarks.run

lint: install-test
	$(BIN)/ruff check scanner classifiers connectors labels tests
	$(BIN)/ruff format --check scanner classifiers connectors labels tests

typecheck: install-test
	$(BIN)/mypy

clean:
	rm -rf $(VENV) out build dist .pytest_cache .mypy_cache .ruff_cache
