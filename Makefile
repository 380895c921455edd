# One command per task. `make run` and `make test` are the README's contract.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-test run test lint check-migrations clean bench soak

# Two stamps. `make run` needs the app and the worker's models only; `make test` and `make lint`
# add the test tools (pytest, Playwright, hypothesis, ruff, mypy, ...). The test install
# includes the run one, so it refreshes both stamps: `make run` after `make test` installs
# nothing, and `make test` after `make run` adds only the test extra. Editing pyproject.toml
# makes both out of date.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(BIN)/.installed-run: pyproject.toml | $(BIN)/python
	@if [ -f $(BIN)/.installed-test ] && [ ! pyproject.toml -nt $(BIN)/.installed-test ]; then \
		echo "run dependencies already installed by the test install"; \
	else \
		echo "$(BIN)/pip install --quiet -e '.[worker]'"; \
		$(BIN)/pip install --quiet -e '.[worker]'; \
	fi
	touch $@

$(BIN)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[worker,test]'
	touch $@ $(BIN)/.installed-run

install: $(BIN)/.installed-run

install-test: $(BIN)/.installed-test

# Migrate, load the demo board if the database is new, and serve with a moderation worker.
run: install
	$(BIN)/candor db upgrade
	$(BIN)/candor demo --if-empty
	$(BIN)/candor serve --host $(HOST) --port $(PORT) --with-worker

# The whole suite, on SQLite and on PostgreSQL (127.0.0.1:5432, user postgres), including
# browser journeys in Debian's Chromium (installed here when missing; never a downloaded browser).
# Lint first. `CANDOR_SCREENSHOTS=1 make test` also rewrites docs/screenshots. Two workers
# (pytest-xdist): one takes the browser journeys as one group, the other the rest
# (`TEST_WORKERS=0 make test` runs them in one process).
TEST_WORKERS ?= 2
test: lint
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

# Long runs kept out of `make test`: kill -9 the worker twenty times under a stream of posts.
soak: install-test
	$(BIN)/pytest -m soak tests/soak

# Style, the direction of imports (import-linter contracts in pyproject.toml) and types.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

check-migrations: install
	$(BIN)/candor db check

clean:
	rm -rf $(VENV) candor.db candor.db-wal candor.db-shm .pytest_cache

# Benchmarks (not timed tests): seeds a 200,000-post board on PostgreSQL and SQLite, drives it
# with wrk, then measures search again at 1,000,000 posts; prints a table and writes
# bench/results/<time>.json. Takes about 45 minutes.
bench: install-test
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.run
