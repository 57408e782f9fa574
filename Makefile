# Adesso: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ADESSO := $(BIN)/adesso
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run setup test test-fast lint bench messages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Adesso needs Python 3.11, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)

# Installs exactly the pinned set (requirements.lock) whenever it or pyproject changes.
$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e ".[dev]"
	@touch $@

setup: $(VENV)/.installed
	$(ADESSO) migrate --no-input -v 0
	$(ADESSO) collectstatic --no-input -v 0

run: setup
	BIN=$(BIN) bash scripts/run

test: $(VENV)/.installed
	bash scripts/test-deps
	$(BIN)/ruff check adesso tests $(wildcard bench)
	$(BIN)/mypy adesso
	$(BIN)/pytest tests

test-fast: $(VENV)/.installed
	$(BIN)/pytest tests -m "not browser" -x

lint: $(VENV)/.installed
	$(BIN)/ruff check adesso tests $(wildcard bench)
	$(BIN)/ruff format --check adesso tests $(wildcard bench)
	$(BIN)/mypy adesso

bench: setup
	bash bench/run.sh

messages: $(VENV)/.installed
	cd adesso && ../$(ADESSO) makemessages -l it --no-obsolete --add-location file
	$(ADESSO) compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var
