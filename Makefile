# The two commands a newcomer needs (README): `make demo` and `make test`. Both set up .venv first; `make test`
# also installs the Debian packages the suite prints and renders with when they are missing
# (tests/system_packages.sh). `make test-quick` is the tier to run while working (README, Development).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
AS_OF ?= 2026-11-22
# The suite's workers: each takes a test file at a time (its module fixtures stay in one process). Three on a
# 2-core machine, so that both cores stay busy while one worker's test waits on a daemon's tick, a browser or
# a pip install: the whole suite 464 s where two workers took 510 s (7 December 2026, 1138 tests).
TEST_WORKERS ?= 3
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: demo test test-quick system-packages ui lint bench sample

$(BIN)/aidmatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# setuptools warns on every editable install that the folder aidmatch/ shares the package's name: it
	@# is the package (pyproject.toml maps each top-level folder into it); the warning says nothing new.
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

## Set up, then run the nightly job once on the bundled sample extracts; its last line opens the UI.
demo: $(BIN)/aidmatch
	$(BIN)/aidmatch run --input data_samples/sample/input --output out --as-of $(AS_OF)

## Set up, install the system packages the suite needs, then run the whole test suite (what .ci/run runs).
test: $(BIN)/aidmatch system-packages
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

## The quick tier: unit and property tests, no night run end to end, no office suite or browser.
test-quick: $(BIN)/aidmatch
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile -m quick

system-packages:
	@sh tests/system_packages.sh

## The Dagster UI and daemon (schedule, sensors) on the runs recorded under .dagster_home/.
ui: $(BIN)/aidmatch
	umask 077 && $(BIN)/dagster dev -w workspace.yaml

lint: $(BIN)/aidmatch
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

## Regenerate the bundled sample (deterministic).
sample: $(BIN)/aidmatch
	$(BIN)/python -m aidmatch.data_samples.generate --persons 3000 --seed 7 --as-of $(AS_OF) --out data_samples/sample
