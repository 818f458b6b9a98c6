# Sextant: `make run` serves the app on its embedded snapshot; `make test` runs everything on the real stack.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export SEXTANT_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/sextant
export SEXTANT_RUN ?= $(SEXTANT_CACHE)/run
WHEELS := $(SEXTANT_CACHE)/wheels
LIVE_ENV = env $$(bash stack/env.sh)  # the stack's addresses, from stack/lib.sh

TEST_WORKERS ?= 2  # pytest-xdist workers for make test (the machine's two cores)

.PHONY: venv run test lint unit stack-up stack-down demo snapshot bench load chaos rules clean

venv: $(VENV)/.installed

# Wheels are cached outside the checkout so a fresh clone installs offline once the cache is warm.
$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --no-index --find-links $(WHEELS) -r requirements.txt 2>/dev/null || \
	  { $(BIN)/pip download -q -d $(WHEELS) -r requirements.txt && \
	    $(BIN)/pip install -q --no-index --find-links $(WHEELS) -r requirements.txt; }
	touch $@

run: venv
	$(BIN)/streamlit run Overview.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy

# Unit and AppTest tests only: no servers needed.
unit: venv
	$(BIN)/pytest -q -m "not integration and not browser"

# Everything: lint and the snapshot's checksum while stack/with-stack.sh starts the real stack (if needed; it
# stops afterwards only what it started), then all tests with coverage on it, then, on the same stack, the
# real faults of `make chaos` (it kills and pauses the stack's backends and leaves them as it found them; its
# browser pass pauses Prometheus only, read by the most pages: `make chaos` pauses each backend in turn). The
# tests that plant a firm, log lines or traces in the stack run after the others: a planted firm changes
# figures that the golden tests derive from the simulator's model (the readiness throughput is shared
# between the firms Prometheus knows). The slowest tests are listed, to see where the run's time goes.
PLANTING_FILES = $(shell grep -l 'mark.planting' tests/test_*.py)  # their run collects only these files
test: venv
	bash stack/install.sh
	SEXTANT_REQUIRE_STACK=1 \
	STACK_MEANWHILE='$(BIN)/ruff check . && $(BIN)/mypy && \
	  $(BIN)/python -m app.sources.snapshot verify snapshots/demo.json.gz' \
	bash stack/with-stack.sh bash -c '\
	  $(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --durations=15 -m "not planting" \
	    --cov=app --cov-report= && \
	  $(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) -m planting $(PLANTING_FILES) \
	    --cov=app --cov-append --cov-report=term --cov-fail-under=80 && \
	  $(BIN)/python bench/chaos.py --browser-backend prometheus'

# SCALE=10: a platform 10 times the demo's (stack/simulator/README.md, "Scale"); the default, 1, is the demo.
# ROUTE_PATHS=K: K paths per route, for a platform of many routes per service.
SCALE ?= 1
ROUTE_PATHS ?= 1
stack-up: venv
	SEXTANT_SCALE=$(SCALE) SEXTANT_ROUTE_PATHS=$(ROUTE_PATHS) bash stack/up.sh

stack-down:
	bash stack/down.sh

rules: venv
	$(BIN)/python -m app.slo rules --output $(SEXTANT_RUN)/prometheus/rules/slo.yml

# The stack with the live simulator, and the app pointed at it.
demo: stack-up
	$(LIVE_ENV) $(BIN)/streamlit run Overview.py

# Re-records snapshots/demo.json.gz from the running stack: every named query of every page.
snapshot: venv
	$(LIVE_ENV) $(BIN)/python -m app.record snapshots/demo.json.gz

bench: venv
	bash stack/with-stack.sh $(BIN)/python bench/run.py

# Many people at once, in real browsers, against the running stack (not part of `make test`): time to
# settle per page, Sextant's memory, errors, and the backends' requests per minute counted by the backends.
# A short run: make load SESSIONS=2 DURATION=20
SESSIONS ?= 10 30
DURATION ?= 180
load: venv
	$(BIN)/python bench/load.py --sessions $(SESSIONS) --duration $(DURATION)

# Real faults between Sextant and each backend (process killed or paused, latency, 5xx, reset, malformed
# JSON, trickle): every page checked, then a browser pass; prints the table (bench/chaos.py, stack/chaos/).
chaos: venv
	bash stack/install.sh
	bash stack/with-stack.sh $(BIN)/python bench/chaos.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage
