# Somos — two commands: `make run` and `make test`. Both create .venv/ themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.somos-installed

.PHONY: run test test-adversary fuzz bench install lock audit lint typecheck pytest locales extract update-catalogs compile-catalogs clean

run: $(STAMP) compile-catalogs
	$(BIN)/somos init
	$(BIN)/somos serve --host 127.0.0.1 --port 8000

test: $(STAMP) compile-catalogs lint typecheck pytest

install: $(STAMP)

# Installs exactly the locked versions (every file checked against its hash), then Somos
# itself without resolving anything again, built by the locked setuptools and Babel (no
# build isolation: nothing fetched besides the lock; setup.py compiles the catalogs).
$(STAMP): pyproject.toml requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Somos necesita Python 3.11 o más reciente.")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The lock files: requirements.lock (what the service runs: the container installs it) and
# requirements-dev.lock (plus the test tools: `make run`, `make test`, CI). Versions already
# locked are kept; `make lock UPGRADE=1` takes the newest that pyproject.toml allows.
# Run `make test` before committing a new lock.
LOCK_FLAGS = --generate-hashes --python-version 3.11 --native-tls --quiet --no-header \
	$(if $(UPGRADE),--upgrade)
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test $(LOCK_FLAGS) -o requirements-dev.lock
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -c requirements-dev.lock -o requirements.lock

# Known vulnerabilities in the locked versions (needs the network: pip-audit asks PyPI's
# and OSV's databases).
audit: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/pip-audit --strict --require-hashes --disable-pip -r requirements.lock
	$(BIN)/pip-audit --strict --require-hashes --disable-pip -r requirements-dev.lock

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/hadolint Dockerfile

typecheck: $(STAMP)
	$(BIN)/mypy

# In parallel (pytest-xdist): each test has its own database, temporary directory and
# ports. Twice as many workers as cores: the end-to-end tests spend much of their time
# waiting on `somos` subprocesses. `--dist loadgroup` keeps each `xdist_group` (tests
# sharing one deployment) on one worker. `make test PYTEST_WORKERS=0` runs serially.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))
pytest: $(STAMP) compile-catalogs
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The differencing adversary (DESIGN.md §7) at random seeds, with far more examples than the
# fixed-seed run inside `make test`: `make test-adversary ADVERSARY_EXAMPLES=5000`.
ADVERSARY_EXAMPLES ?= 2000
test-adversary: $(STAMP) compile-catalogs
	SOMOS_ADVERSARY_EXAMPLES=$(ADVERSARY_EXAMPLES) SOMOS_ADVERSARY_RANDOM=1 \
		$(BIN)/pytest tests/api/test_differencing.py --hypothesis-show-statistics

# Every property and fuzz test (Hypothesis, Schemathesis) at random seeds and with
# FUZZ_SCALE times the examples of `make test`, where their seeds are fixed (see
# tests/support/fuzzing.py): `make fuzz FUZZ_SCALE=100`. A failure prints how to replay it.
FUZZ_SCALE ?= 20
fuzz: $(STAMP) compile-catalogs
	SOMOS_FUZZ=1 SOMOS_FUZZ_SCALE=$(FUZZ_SCALE) $(BIN)/pytest -n $(PYTEST_WORKERS) \
		--dist loadgroup -m "hypothesis or fuzz" --hypothesis-show-statistics $(PYTEST_ARGS)

# Every benchmark of the performance issue on this machine, about 12 minutes on 2 cores;
# writes docs/BENCHMARKS.md (and bench/flamegraph.svg, bench/last-run.json). Never part of
# `make test`. `make bench QUICK=1`: small sizes, a few minutes, for working on the benches.
# Needs PostgreSQL as the tests do (SOMOS_TEST_POSTGRES_URL) and py-spy for the flame graph.
bench: $(STAMP) compile-catalogs
	test -x $(BIN)/py-spy || $(BIN)/python -m pip install --quiet py-spy
	PYTHONPATH=$(CURDIR) $(BIN)/python bench/run.py $(if $(QUICK),--quick)

# Translations: msgids are the Spanish source text (DESIGN.md §2).
extract: $(STAMP)
	$(BIN)/pybabel extract -F locales/babel.cfg --no-location --sort-output \
		--project=Somos --copyright-holder="Somos" -k N_ -k NP_:1,2 -o locales/messages.pot .

update-catalogs: extract
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete

compile-catalogs: $(STAMP)
	$(BIN)/pybabel compile -d locales -D messages --statistics

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
