# OpenNRM: `make run` serves the demo, `make test` runs every test. Both start with `make install`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# Find a Python >= 3.12 by itself: PATH first, then pyenv's installs (their shims fail when not selected).
PYTHON ?= $(shell for c in python3.13 python3.12 python3 $$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3 /usr/local/bin/python3.13 /usr/bin/python3.13; do \
	if $$c -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then command -v $$c || echo $$c; break; fi; done)
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: help install run test bench bench-scale bench-safeguarding bench-statistics clean vendor-govuk

help:
	@echo "make run    install, migrate, load the synthetic demo and serve on http://127.0.0.1:$(PORT)"
	@echo "make test   install and run every test (SQLite; DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make bench  install and run the benchmarks against PostgreSQL, then bench-scale, bench-safeguarding and bench-statistics; figures go to BENCHMARKS.md"
	@echo "make bench-scale  1,000,000 referrals in PostgreSQL (seeded once, then reused): queue, dashboard, nightly sweep"
	@echo "make bench-safeguarding  1,000,000 referrals and 200,000 missing episodes (seeded once): missing now, notification latency"
	@echo "make bench-statistics  the statistics publication: information lost beside k=11, a year from 1,000,000 referrals"

install: $(STAMP)
	@mkdir -p var

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "No Python 3.12 or newer found (tried python3.13, python3.12, python3 and pyenv's installs)."; exit 1; }
	@echo "Using $(PYTHON)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# Browser tests drive the system Chromium (the test tool's own browser download cannot work here);
	@# decision letters' PDFs are set in DejaVu Sans, which covers Latin with Vietnamese diacritics.
	@missing=""; test -x /usr/bin/chromium || missing="chromium"; \
	  test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || missing="$$missing fonts-dejavu-core"; \
	  if [ -n "$$missing" ]; then \
	    if command -v apt-get >/dev/null; then apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	    else echo "Not installed: $$missing (browser tests are skipped without Chromium; PDF letters need DejaVu)"; fi; \
	  fi
	@touch $(STAMP)

run: install
	$(BIN)/opennrm migrate --no-input
	$(BIN)/opennrm demo
	$(BIN)/opennrm serve --port $(PORT)

test: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/opennrm makemigrations --check --dry-run
	$(BIN)/lint-imports  # the layers' import contracts (pyproject.toml [tool.importlinter]): a new cycle fails here
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/safeguarding.py
	$(BIN)/python bench/official_statistics.py --referrals 1000000 --write

bench-scale: install
	$(BIN)/python bench/scale.py

bench-safeguarding: install
	$(BIN)/python bench/safeguarding.py

# The official-statistics publication (issue 24): information lost beside k-anonymity at k = 11, and a year's
# publication from 1,000,000 referrals in PostgreSQL (database wt_stats_bench, seeded once) beside the bare queries.
bench-statistics: install
	$(BIN)/python bench/official_statistics.py --referrals 1000000 --write

clean:
	rm -rf $(VENV) var/*.sqlite3

GOVUK_FRONTEND_VERSION := 6.3.0
# Refresh the vendored GOV.UK Frontend build (the version govuk-frontend-jinja 4.x is tested against).
vendor-govuk:
	d=$$(mktemp -d) && cd $$d && npm pack -q govuk-frontend@$(GOVUK_FRONTEND_VERSION) && tar xzf govuk-frontend-*.tgz && \
	cd $(CURDIR) && rm -rf opennrm/web/static/govuk && mkdir -p opennrm/web/static/govuk && \
	cp -r $$d/package/dist/govuk/govuk-frontend.min.css $$d/package/dist/govuk/govuk-frontend.min.js $$d/package/dist/govuk/assets opennrm/web/static/govuk/ && \
	sed -i 's#url(/assets/#url(assets/#g' opennrm/web/static/govuk/govuk-frontend.min.css && \
	echo "govuk-frontend $(GOVUK_FRONTEND_VERSION) (npm), dist/govuk; font and image URLs made relative to this folder. Refresh: make vendor-govuk" > opennrm/web/static/govuk/VERSION
