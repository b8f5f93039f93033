# Yhdessä: `make run` (the app with demo data) and `make test` (the whole suite).
# Both set up everything on a fresh Debian/Ubuntu machine; a second run is fast.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12 (Django 6.1; the lock file is compiled for it): python3.12 on PATH, else pyenv's newest
# 3.12.x, else python3. Candidates are run, not just found: a pyenv shim may exist but not work.
PY ?= $(shell for c in python3.12 python3; do \
	  if $$c -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; then command -v $$c; exit 0; fi; done; \
	  v=$$(pyenv versions --bare 2>/dev/null | grep -E '^3\.12\.' | sort -V | tail -1); \
	  if [ -n "$$v" ]; then PYENV_VERSION=$$v pyenv which python3; exit 0; fi; command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
LOCK := requirements/test.lock
STAMP := $(VENV)/.installed-$(shell sha1sum $(LOCK) 2>/dev/null | cut -c1-12)
SYSDEPS := chromium poppler-utils fonts-noto-core fonts-noto-cjk gettext fonts-dejavu-core wrk
PORT ?= 8000

.PHONY: help run test stop bench sysdeps venv services migrate messages seed lint lock clean

help:
	@echo "make run    - the app with demo data at http://espoo.localhost:$(PORT)/"
	@echo "make test   - the whole test suite"
	@echo "make stop   - stop the embedded PostgreSQL and Redis"
	@echo "make bench  - benchmarks (JSON lines)"

$(STAMP): $(LOCK)
	@test -x $(PYTHON) || $(PY) -m venv $(VENV)
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check --upgrade pip 2> >(grep -v "is ignored" >&2)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r $(LOCK) 2> >(grep -v "is ignored" >&2)
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

# Debian packages the suite needs (browser tests, PDF checks, fonts, msgfmt); installed when root.
sysdeps:
	@missing=$$(for p in $(SYSDEPS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages: $$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null \
	      || echo "warning: could not install $$missing"; \
	  else echo "note: not root, so not installing $$missing (browser/PDF tests may skip)"; fi; \
	fi

services: venv
	@$(PYTHON) -m config.devservices up

migrate: services
	@$(PYTHON) manage.py migrate_schemas --shared -v 0
	@$(PYTHON) manage.py migrate_schemas --tenant --executor=multiprocessing -v 0
	@$(PYTHON) manage.py ensure_public_tenant -v 0 >/dev/null

messages: venv
	@$(PYTHON) manage.py compilemessages -v 0 --ignore=.venv

seed: migrate
	@$(PYTHON) manage.py seed_demo --scale small

run: sysdeps venv messages seed
	@$(PYTHON) -m config.devrun --port $(PORT)

test: sysdeps venv messages services
	@YHDESSA_TESTING=1 $(BIN)/pytest $(PYTEST_ARGS)

stop:
	@test -x $(PYTHON) && $(PYTHON) -m config.devservices down || true

bench: venv messages services
	@$(PYTHON) -m bench $(BENCH_ARGS)

lint: venv
	@$(BIN)/ruff check .

# Re-pin dependencies after editing requirements/*.in
lock: venv
	$(BIN)/pip-compile -q --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements/base.lock requirements/base.in
	$(BIN)/pip-compile -q --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o $(LOCK) requirements/test.in

clean: stop
	rm -rf .pgdata .run .staticfiles .media
