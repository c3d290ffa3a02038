# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-test migrate demo lint test-sqlite test-postgres test-browser bench bench-quick translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

# The outside checkers the suite runs: axe-core (in the browser), the Nu Html Checker (Java)
# and Lighthouse (Node, driving Chromium).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/pledge db upgrade

# The demo is seeded once; delete var/ to start again from an empty database.
var/.demo-seeded: | migrate
	$(BIN)/pledge demo
	touch $@

demo: migrate
	$(BIN)/pledge demo

run: migrate var/.demo-seeded
	@echo "Serving on http://$(HOST):$(PORT)/c/suarakan-cintamu"
	$(BIN)/pledge serve --host $(HOST) --port $(PORT)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy pledge

test-sqlite: install-test
	bash scripts/system-deps.sh
	$(MAKE) --no-print-directory node_modules/.installed
	$(BIN)/pytest -n 2 -m "not browser"

test-postgres: install-test
	bash scripts/system-deps.sh
	$(MAKE) --no-print-directory node_modules/.installed
	$(BIN)/pytest -n 2 --db=postgres -m "not browser"

test-browser: install-test
	bash scripts/system-deps.sh
	$(MAKE) --no-print-directory node_modules/.installed
	$(BIN)/pytest -m browser

# Everything, as CI runs it: lint, the suite on SQLite (with the browser journeys)
# and again on a throwaway PostgreSQL server.
test: install-test
	bash scripts/system-deps.sh
	$(MAKE) --no-print-directory node_modules/.installed
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest -n 2
	$(BIN)/pytest -n 2 --db=postgres -m "not browser"

# The benchmarks (bench/run.py): the server as in production under wrk; results in
# bench/RESULTS.md (quick: bench/RESULTS-quick.md). BENCH_ARGS="--db postgres" for PostgreSQL.
bench: install-test
	bash scripts/system-deps.sh
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(MAKE) --no-print-directory node_modules/.installed && $(BIN)/python -m bench.lighthouse

bench-quick: install-test
	bash scripts/system-deps.sh
	$(BIN)/python -m bench.run --quick $(BENCH_ARGS)

# Contact sheets of every page at 320, 360, 414 and 1280 px, in Indonesian and English, with
# long content and every form's errors, for checking the layout by eye: one PNG per page in
# build/screenshots/ (scripts/screenshots.py; a throwaway database, the demo, pledge serve).
.PHONY: screenshots
screenshots: install-test
	bash scripts/system-deps.sh
	$(BIN)/python scripts/screenshots.py

translations: install-test
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 --no-location \
	  --sort-output --project=pledge -o pledge/translations/messages.pot .
	$(BIN)/pybabel update -i pledge/translations/messages.pot -d pledge/translations \
	  --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
