# Mizzen developer commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: demo test lint fmt venv e2e bench clean chromium vendor

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

## demo: create .venv, install, run the quickstart example end to end on the embedded default
demo: $(STAMP)
	@$(BIN)/python examples/quickstart/demo.py

## test: create .venv if needed, install (Chromium too, for the browser tests), run the whole test suite
test: $(STAMP) chromium
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

## chromium: Debian's Chromium for tests/ui (installed with apt when root; otherwise says the command)
chromium:
	@tools/ensure_chromium.sh

## lint: ruff, mypy and the import-linter layer contracts
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/refresh_vendor.py --check

## vendor: refresh the UI's vendored htmx/uPlot from the npm registry (tools/refresh_vendor.py)
vendor:
	$(BIN)/python tools/refresh_vendor.py

fmt: $(STAMP)
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

## e2e: the Kubernetes end-to-end suite against a real cluster (MIZZEN_E2E_KUBECONFIG=PATH)
e2e: $(STAMP)
	@test -n "$(MIZZEN_E2E_KUBECONFIG)" || (echo "set MIZZEN_E2E_KUBECONFIG=PATH to a cluster's kubeconfig" && exit 2)
	$(BIN)/python -m pytest tests/e2e -q -p no:xdist

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
