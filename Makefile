# Two commands: `make demo` (the main job on real data) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: demo demo-serve test serve install clean bench lint ui

# The web UI (ui/, TypeScript) is built into assay/web/static/ when Node.js 20+ is present;
# without Node the API works and / says the UI is not built.
NODE_OK  := $(shell node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' 2>/dev/null && echo yes)
UI_SRC   := $(shell find ui/src ui/public ui/scripts -type f 2>/dev/null) ui/index.html ui/package.json ui/vite.config.ts ui/tsconfig.json
UI_BUILT := assay/web/static/index.html

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Assay needs Python 3.11+, found %s" % sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@echo "==> Creating the virtualenv $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> Upgrading pip"
	$(PY) -m pip install --quiet --upgrade pip
	@echo "==> Installing Assay (editable) and its dependencies, with the dev tools and PySpark: about 150 packages, 3 to 6 minutes the first time"
	$(PY) -m pip install --progress-bar off -e '.[dev,spark]'
	@$(VENV)/bin/assay --help >/dev/null && echo "==> Installed: $(VENV)/bin/assay; run 'make test' or 'make demo'"
	@touch $@

install: ui $(VENV)/.installed

ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund

$(UI_BUILT): ui/node_modules/.package-lock.json $(UI_SRC)
	cd ui && npm run build

ui:
ifeq ($(NODE_OK),yes)
	@$(MAKE) --no-print-directory $(UI_BUILT)
else
	@echo "Node.js 20+ not found: the web UI is not built (the REST API works without it)"
endif

demo: ui $(VENV)/.installed
	$(VENV)/bin/assay demo

# In parallel (pytest-xdist), a whole test file per worker: a module's module-scoped set-up (a
# live server, the parity matrix's data) is made once and the tests of a file run in their
# order. tests/conftest.py's scheduler sends the longest files first, every Spark test to one
# worker (one JVM) and the browser tests to one (one seeded server). One worker more than the
# CPUs: many tests spend seconds waiting on a server, a worker process or a client's polling.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
test: ui $(VENV)/.installed
ifeq ($(NODE_OK),yes)
	cd ui && npm test  # the web UI's component tests (first, so pytest's summary closes the run)
endif
	$(PY) -m tests.tools  # the client tools the tests drive (qualytics-cli, ...), once, into .cache/
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# the demo's results again: its metadata store and datastores under demo-data/
demo-serve: ui $(VENV)/.installed
	ASSAY_DATA_DIR=demo-data/assay $(VENV)/bin/assay serve --host 127.0.0.1 --port $(or $(PORT),8000)

serve: ui $(VENV)/.installed
	$(VENV)/bin/assay serve --host 127.0.0.1 --port 8000

bench: $(VENV)/.installed
	$(PY) bench/scan_bench.py
	$(PY) bench/incremental_bench.py
	$(PY) bench/tpch_scan_bench.py --sf 1 --engines duckdb,postgres
	$(PY) bench/profile_bench.py --columns 200 --rows 1000000
	$(PY) bench/flows_bench.py --events 2000 --dispatchers 2

clean:
	rm -rf $(VENV) demo-data .pytest_cache
