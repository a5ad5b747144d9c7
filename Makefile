# Set-up commands for a new machine (needs only Python 3.11 and access to the package registry).
#   make run   install into .venv, build the corpus index, serve on 127.0.0.1:8000
#   make test  install with dev tools, lint, type-check, check import rules, run the whole test suite
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: install run test lint unit bench clean compose-validator

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/procure ingest
	$(BIN)/procure serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

unit: install compose-validator
	$(BIN)/pytest

# Debian's docker-compose validates docker-compose.yml without a Docker daemon (tests/test_deploy.py); installed
# with apt when missing and possible, otherwise that test skips and says why.
compose-validator:
	@command -v docker-compose >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) >/dev/null 2>&1 \
	      || echo "note: apt-get could not install docker-compose; the compose validation test will skip"; \
	  else echo "note: no apt-get (or not root); the compose validation test will skip"; fi; }

test: lint unit

bench: install
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache data
