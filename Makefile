# HR Graph developer commands. A fresh clone needs only `make run`: the venv is built from
# requirements.lock and, with DATABASE_URL unset, the app starts an embedded PostgreSQL.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv run test lint schema bench clean

venv: $(STAMP)

# Re-installs only when requirements.lock is newer than the stamp.
$(STAMP): requirements.lock
	@if [ ! -x $(PY) ]; then \
		python3.11 -m venv $(VENV) 2>/dev/null || python3 -m venv $(VENV); \
		$(PY) -m pip install --disable-pip-version-check -q --upgrade pip; \
	fi
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.lock
	@touch $(STAMP)

run: venv
	$(PY) -m app serve --dev --host 127.0.0.1 --port $${PORT:-8000}

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest

schema: venv
	$(PY) -m app export-schema

bench: venv
	$(PY) -m bench

# Removes caches only; the venv and the embedded database in .data are kept.
clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
