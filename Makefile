# Two commands: `make demo` (the main job on real data) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: demo test serve install clean bench lint

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Assay needs Python 3.11+, found %s" % sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	@touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/assay demo

test: $(VENV)/.installed
	$(PY) -m pytest -q

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
