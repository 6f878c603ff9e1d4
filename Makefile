# Two commands: `make demo` (the main job on real data) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: demo test serve install clean bench lint

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Assay needs Python 3.11+, found %s" % sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@echo "==> Creating the virtualenv $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> Upgrading pip"
	$(PY) -m pip install --quiet --upgrade pip
	@echo "==> Installing Assay (editable) and its dependencies, with the dev tools and PySpark (a few minutes the first time)"
	$(PY) -m pip install --progress-bar off -e '.[dev,spark]'
	@echo "==> Installed: $(VENV)/bin/assay; run 'make test' or 'make demo'"
	@touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/assay demo

# In parallel, one worker per CPU (pytest-xdist), a whole test file per worker: a module's
# module-scoped set-up (a live server, the parity matrix's data) is made once and the tests of
# a file run in their order. (--dist loadgroup would spread files further, but pytest-xdist 3.8
# ignores xdist_group marks under pytest 9.)
test: $(VENV)/.installed
	$(PY) -m pytest -q -n auto --dist loadfile

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

serve: $(VENV)/.installed
	$(VENV)/bin/assay serve --host 127.0.0.1 --port 8000

bench: $(VENV)/.installed
	$(PY) bench/scan_bench.py
	$(PY) bench/incremental_bench.py
	$(PY) bench/tpch_scan_bench.py --sf 1 --engines duckdb,postgres

clean:
	rm -rf $(VENV) demo-data .pytest_cache
