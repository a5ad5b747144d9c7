# Set-up commands for a new machine (needs only Python 3.11 and access to the package registry).
#   make run   install into .venv, build the corpus index, serve on 127.0.0.1:8000
#   make test  install with dev tools, lint, type-check, check import rules, run the whole test suite
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: install run test lint unit bench clean system-deps

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

# Debian packages some tests use (Chromium + a CJK font for the browser tests, docker-compose to validate
# docker-compose.yml without a daemon); installed with apt when missing and possible, otherwise those tests skip
# and say why.
system-deps:
	@bash scripts/system-deps.sh

unit: install system-deps
	$(BIN)/pytest

test: lint unit

bench: install
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache data
