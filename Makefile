# Set-up and everyday commands. `make chat` and `make test` work on a fresh machine:
# they create .venv, install torch 2.13.0 (the CPU build) before anything that depends
# on it, then install CourseBot with every extra.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup chat test train validate clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

chat: setup          ## train if the data changed, then chat in the terminal
	$(BIN)/coursebot chat

test: setup          ## the whole test suite
	$(BIN)/python -m pytest

train: setup
	$(BIN)/coursebot train

validate: setup
	$(BIN)/coursebot data validate

clean:
	rm -rf $(VENV) models .pytest_cache
