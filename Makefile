# Set-up and everyday commands. `make chat` and `make test` work on a fresh machine:
# they create .venv, install torch 2.13.0 (the CPU build) before anything that depends
# on it, then install CourseBot with every extra.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup chat test test-servers train validate rasa-check clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

chat: setup          ## train if the data changed, then chat in the terminal
	$(BIN)/coursebot chat

# Every test CI runs: Redis and Chromium come from Debian (scripts/test-servers.sh installs
# them, or says how), and a test that needs them fails rather than skipping. Only the Rasa
# tests are opt-in (`make rasa-check`).
test: setup test-servers   ## the whole test suite
	COURSEBOT_REQUIRE_SERVERS=1 $(BIN)/python -m pytest

test-servers:
	@scripts/test-servers.sh

# Real Rasa 3.6 end to end, one line per step: validate, train, serve, converse.
# RASA_BIN is its `rasa` (default: the one on PATH); ../shared/tools/rasa-env.sh builds one.
rasa-check: setup
	RASA_BIN="$${RASA_BIN:-$$(command -v rasa)}" COURSEBOT_REQUIRE_RASA=1 \
		$(BIN)/python -m pytest -m rasa -v -p no:cacheprovider tests/test_rasa.py

train: setup
	$(BIN)/coursebot train

validate: setup
	$(BIN)/coursebot data validate

clean:
	rm -rf $(VENV) models .pytest_cache
