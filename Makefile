# The README's two commands: `make demo` and `make test`. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ENGINE_BIN := .engine/bin
STAMP := $(VENV)/.installed
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: setup engine test test-fast constraints demo bench emulator clean

setup: $(STAMP)

# constraints.txt pins every package of .[test] (the Pulumi SDK at the engine's release): the suite
# runs on exactly these. pyproject.toml only states the ranges users get.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_QUIET) --upgrade pip
	$(PY) -m pip install $(PIP_QUIET) -c constraints.txt -e '.[test]'
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

# Re-resolve constraints.txt (tools/constraints.py): the newest releases pyproject.toml's ranges
# allow, the SDK at the engine's release, for each Python in CONSTRAINTS_PYTHONS. Review the diff,
# run `make test`, commit both.
CONSTRAINTS_PYTHONS ?= python3.10 python3.11 python3.12 python3.13
constraints: setup
	$(PY) tools/constraints.py $(foreach python,$(CONSTRAINTS_PYTHONS),--python $(python))

demo: setup engine
	$(PY) tools/demo.py

bench: setup engine
	$(PY) benchmarks/requests.py

emulator: setup
	$(PY) -m pulumi_appstoreconnect.emulator

clean:
	rm -rf $(VENV) .engine .asc-emulator .pytest_cache
