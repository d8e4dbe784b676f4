# The README's two commands: `make demo` and `make test`. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ENGINE_BIN := .engine/bin
STAMP := $(VENV)/.installed
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: setup engine test test-fast package-check newest-sdk-check constraints demo bench emulator clean

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

# After the suite, the two package checks run side by side (each one's output once it is done).
test: setup engine
	$(PY) -m pytest tests
	@echo "package-check and newest-sdk-check (in parallel; output as each finishes)"
	@$(MAKE) --no-print-directory -j2 --output-sync=target package-check newest-sdk-check

# Everything but the real-engine tier (for a quick loop while editing).
test-fast: setup
	$(PY) -m pytest tests -m "not engine"

# Build the sdist and wheel, install the wheel into a fresh virtualenv outside the checkout and run
# examples/bundle-ids through the engine from that install (tools/package_check.py).
package-check: setup engine
	$(PY) tools/package_check.py wheel

# The bundle-ids engine tests with the newest Pulumi SDK pyproject.toml allows (in .venv-newest/).
newest-sdk-check: setup engine
	$(PY) tools/package_check.py newest-sdk

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
	rm -rf $(VENV) .venv-newest .engine .asc-emulator .pytest_cache
