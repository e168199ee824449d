# The two commands of the README: `make run` (set up, demo, serve) and `make test` (set up, lint, test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_PASSWORD ?= demo-pass-123
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: setup assets browser run test test-sqlite test-postgres lint bench clean

$(BIN)/lowcode: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/lowcode assets browser

# Headless Chromium for the phone-width browser test (Debian's package; Playwright drives it).
browser:
	@if command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q .; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else echo "chromium or fonts-noto-cjk missing: install both packages to run the browser tests"; fi

assets: $(BIN)/lowcode
	@if [ -f package.json ]; then npm ci --no-audit --no-fund --loglevel=error; fi
	@if [ -f scripts/build_assets.py ]; then $(BIN)/python scripts/build_assets.py; fi

run: $(BIN)/lowcode assets
	$(BIN)/lowcode demo --password $(DEMO_PASSWORD)
	@echo "Sign in at http://$(HOST):$(PORT)/ as admin / $(DEMO_PASSWORD)"
	LOWCODE_ENV=development $(BIN)/lowcode serve --host $(HOST) --port $(PORT)

lint: $(BIN)/lowcode
	$(BIN)/ruff check lowcode tests bench
	$(BIN)/ruff format --check lowcode tests bench

# The whole suite on SQLite; on PostgreSQL only tests/integration: the unit tests never read LOWCODE_TEST_DB - the
# few that need a database open an in-memory SQLite and their own PostgreSQL one in either run - and the browser
# tests (tests/e2e) drive the same pages and services the integration tests run on PostgreSQL, so a second run of
# either would repeat the first (docs/TESTING.md). worksteal: a worker that runs out of tests takes some from the other (long fuzz runs).
test-sqlite: setup
	LOWCODE_TEST_DB=sqlite $(BIN)/pytest -n $(JOBS) --dist worksteal

test-postgres: setup
	LOWCODE_TEST_DB=postgresql $(BIN)/pytest -n $(JOBS) --dist worksteal tests/integration

test: setup lint test-sqlite test-postgres

bench: setup
	$(BIN)/python bench/bench_api.py

clean:
	rm -rf $(VENV) node_modules lowcode/static/vendor .pytest_cache .ruff_cache .hypothesis
