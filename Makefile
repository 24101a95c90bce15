# The two commands a newcomer needs (README): `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
AS_OF ?= 2026-11-22
# The suite's workers: each takes a test file at a time (its module fixtures stay in one process). Two keep a
# 2-core machine busy while a test waits on a daemon's tick, a browser or a pip install.
TEST_WORKERS ?= 2
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: demo test ui lint bench sample

$(BIN)/aidmatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

## Set up, then run the nightly job once on the bundled sample extracts.
demo: $(BIN)/aidmatch
	@mkdir -p $(DAGSTER_HOME)
	$(BIN)/aidmatch run --input data_samples/sample/input --output out --as-of $(AS_OF)
	@echo "Lists: out/$(AS_OF)/   Dagster UI with this run's history: make ui  (then open http://127.0.0.1:3000)"

## Set up, then run the test suite (what .ci/run runs).
test: $(BIN)/aidmatch
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

## The Dagster UI on the runs recorded under .dagster_home/.
ui: $(BIN)/aidmatch
	@mkdir -p $(DAGSTER_HOME)
	$(BIN)/dagster dev -w workspace.yaml

lint: $(BIN)/aidmatch
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

## Regenerate the bundled sample (deterministic).
sample: $(BIN)/aidmatch
	$(BIN)/python -m aidmatch.data_samples.generate --persons 3000 --seed 7 --as-of $(AS_OF) --out data_samples/sample
