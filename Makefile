# The README's two commands: `make demo` and `make test`. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ENGINE_BIN := .engine/bin
STAMP := $(VENV)/.installed

.PHONY: setup engine test test-fast demo bench emulator clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

# build.sh returns at once when .engine/bin (or the per-user cache) already holds the pinned
# version, and fails loudly otherwise: no make timestamps to mask a failed build.
engine:
	tools/pulumi-engine/build.sh $(ENGINE_BIN)

test: setup engine
	$(PY) -m pytest tests

# Everything but the real-engine tier (for a quick loop while editing).
test-fast: setup
	$(PY) -m pytest tests -m "not engine"

demo: setup engine
	$(PY) tools/demo.py

bench: setup engine
	$(PY) benchmarks/requests.py

emulator: setup
	$(PY) -m pulumi_appstoreconnect.emulator

clean:
	rm -rf $(VENV) .engine .asc-emulator .pytest_cache
