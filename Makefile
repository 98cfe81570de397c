# The two commands of the README:  make run  and  make test.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/aftersales
export AFTERSALES_HOME ?= $(CURDIR)/var

.PHONY: run test test-sqlite test-postgres lint install lock messages clean bench browser screenshots

$(BIN)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

install: $(BIN)/.installed

## run: install, migrate the embedded SQLite database, load demo data once, serve web + worker
run: install
	mkdir -p $(AFTERSALES_HOME)
	$(BIN)/aftersales migrate --no-input -v0
	$(BIN)/aftersales demo
	$(BIN)/aftersales serve --port 8000

## test: lint, migration check, then the whole suite on SQLite and on PostgreSQL
test: install browser lint test-sqlite test-postgres

## browser: Debian's Chromium for the Playwright tests (Playwright's own download cannot work
## here), with a CJK font so that screenshots show Chinese
browser:
	{ command -v chromium && fc-list | grep -qi wenquanyi; } >/dev/null 2>&1 || { \
		$$(command -v sudo) apt-get update -qq && \
		$$(command -v sudo) apt-get install -y -qq chromium fonts-wqy-microhei; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DATABASE_URL=sqlite:///:memory: $(BIN)/aftersales makemigrations --check --dry-run

test-sqlite: install
	DATABASE_URL=sqlite:///$(AFTERSALES_HOME)/test.sqlite3 $(BIN)/pytest -p no:cacheprovider -n 2 $(PYTEST_ARGS)

test-postgres: install
	bash .ci/ensure-postgres
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -p no:cacheprovider -n 2 $(PYTEST_ARGS)

## bench: the benchmarks with their floors (PostgreSQL; see docs/performance.md)
bench: install
	bash .ci/ensure-postgres
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## lock: regenerate requirements.lock from pyproject.toml (needs the network)
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml requirements-build.in --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

messages: install
	$(BIN)/aftersales makemessages -l zh_Hans -l en --no-obsolete \
		--ignore='.venv/*' --ignore='var/*' --ignore='tests/*' --ignore='bench/*'
	$(BIN)/aftersales compilemessages --ignore='.venv/*'

clean:
	rm -rf $(VENV) var staticfiles

## screenshots: the README's screenshots of the workbench, from the demo data
screenshots: install browser
	$(BIN)/python docs/screenshots.py
