# Every target creates its own virtual environment: nothing relies on what is installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-quick lint bench clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/chapar up

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy chapar flows tasks dashboards
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same without the slow scale/kill/chaos tests and the browser: for a developer's loop.
test-quick: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy chapar flows tasks dashboards
	$(BIN)/python -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy chapar flows tasks dashboards

bench: $(STAMP)
	$(BIN)/python -m bench

clean-venv:
	rm -rf $(VENV)
