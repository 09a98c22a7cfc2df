# HR Graph developer commands. A fresh clone needs only `make run`: the venv is built from
# requirements.lock (runtime only) and, with DATABASE_URL unset, the app starts an embedded
# PostgreSQL. `make test` adds the test and lint tools from requirements-dev.lock.

VENV      := .venv
PY        := $(VENV)/bin/python
PIP       := $(PY) -m pip install --disable-pip-version-check --progress-bar off
RUNTIME   := $(VENV)/.runtime-installed
DEV       := $(VENV)/.dev-installed

NODE_DEPS := frontend/node_modules/.package-lock.json

# make test (the GraphQL-over-HTTP audit and the client suites run on Node), make codegen and make bench-peer
# need Node.js 20 or newer with npm: without them, one line naming what is missing, before
# any work (a check while reading this file: a failing recipe would add make's own lines).
NODE_MAJOR := 20
NODE_GOALS := $(filter test codegen graphiql-assets bench-peer,$(MAKECMDGOALS))
ifneq ($(NODE_GOALS),)
  NEEDS_NODE := make $(firstword $(NODE_GOALS)) needs Node.js $(NODE_MAJOR) or newer and npm
  ifeq ($(shell command -v node),)
    $(error $(NEEDS_NODE): node is not on PATH)
  endif
  ifeq ($(shell node -e 'process.exit(+process.versions.node.split(".")[0] >= $(NODE_MAJOR) ? 0 : 1)' && echo ok),)
    $(error $(NEEDS_NODE): node is $(shell node --version))
  endif
  ifeq ($(shell command -v npm),)
    $(error $(NEEDS_NODE): npm is not on PATH)
  endif
endif
# tests/api/test_readme_as_pasted.py runs the README's scripts, written for bash, curl and jq.
ifneq ($(filter test,$(MAKECMDGOALS)),)
  $(foreach tool,bash curl jq,$(if $(shell command -v $(tool)),,$(error make test needs $(tool) for the README's scripts: $(tool) is not on PATH)))
endif

.PHONY: venv dev run web test test-pgbouncer lint schema bench bench-peer differential coldstart codegen graphiql-assets clean

venv: $(RUNTIME)
dev: $(DEV)

$(PY):
	@echo "==> creating $(VENV) (first run only)"
	@python3.11 -m venv $(VENV) 2>/dev/null || python3 -m venv $(VENV)

# Re-installs only when a lock file is newer than its stamp.
$(RUNTIME): requirements.lock | $(PY)
	@echo "==> installing runtime dependencies from requirements.lock (about a minute on a fresh clone)"
	@$(PIP) -r requirements.lock 2>&1 | grep -E '^(Collecting|Successfully|ERROR)' | sed -e 's/^/    /' || true
	@$(PY) -c "import strawberry, sqlalchemy, uvicorn" || { echo "runtime install failed"; exit 1; }
	@touch $(RUNTIME)

$(DEV): $(RUNTIME) requirements-dev.lock
	@echo "==> installing test and lint tools from requirements-dev.lock"
	@$(PIP) -r requirements-dev.lock 2>&1 | grep -E '^(Collecting|Successfully|ERROR)' | sed -e 's/^/    /' || true
	@$(PY) -c "import pytest, hypothesis" || { echo "dev install failed"; exit 1; }
	@touch $(DEV)

run: venv web
	@echo "==> starting HR Graph on http://127.0.0.1:$${PORT:-8000}/graphql (web app: http://127.0.0.1:$${PORT:-8000}/app/)"
	$(PY) -m app serve --dev --host 127.0.0.1 --port $${PORT:-8000}

lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The GraphQL-over-HTTP audit (tests/api/test_graphql_over_http.py) runs graphql-http on Node.
AUDIT_MODULES := tests/audit/node_modules/.package-lock.json

$(AUDIT_MODULES): tests/audit/package-lock.json
	@echo "==> installing the GraphQL-over-HTTP audit (npm ci in tests/audit)"
	@cd tests/audit && npm ci --no-audit --no-fund --loglevel=error

# The client conformance suite (tests/clients) runs graphql-ws, subscriptions-transport-ws,
# urql and Apollo Client on Node against the real app.
CLIENT_MODULES := tests/clients/node_modules/.package-lock.json

$(CLIENT_MODULES): tests/clients/package-lock.json
	@echo "==> installing the client conformance suite (npm ci in tests/clients)"
	@cd tests/clients && npm ci --no-audit --no-fund --loglevel=error

test: lint $(AUDIT_MODULES) $(CLIENT_MODULES)
	$(VENV)/bin/pytest

# The API and subscription modules with the app behind Debian's PgBouncer in transaction
# pooling mode (tests/pgbouncer.py; needs pgbouncer and TEST_DATABASE_URL): .ci/run runs it.
PGBOUNCER_MODULES := tests/integration/test_pgbouncer.py tests/api/test_workflows.py tests/api/test_websocket.py \
                     tests/api/test_compiled_reads.py tests/api/test_trusted_documents.py

test-pgbouncer: dev
	TEST_THROUGH_PGBOUNCER=1 $(VENV)/bin/pytest -q -p no:cacheprovider $(PGBOUNCER_MODULES)

schema: venv
	$(PY) -m app export-schema

bench: dev
	$(PY) -m bench

# The project beside PostGraphile 4.14.1 on one database (bench/peer.py; BENCHMARKS.md): npm ci
# in bench/postgraphile, the answers compared, W1-W5 in paired rounds, the ratios printed.
PEER_MODULES := bench/postgraphile/node_modules/.package-lock.json

$(PEER_MODULES): bench/postgraphile/package-lock.json
	@echo "==> installing PostGraphile 4.14.1 (npm ci in bench/postgraphile)"
	@cd bench/postgraphile && npm ci --no-audit --no-fund --loglevel=error

bench-peer: dev $(PEER_MODULES)
	$(PY) -m bench.peer

# The compiled-reads differential test with thousands of generated operations (CI runs 60).
differential: dev
	DIFFERENTIAL_EXAMPLES=$${DIFFERENTIAL_EXAMPLES:-3000} $(VENV)/bin/pytest tests/api/test_compiled_differential.py

# Process start to the first answered request, on a migrated database (bench/coldstart.py).
coldstart: dev
	$(PY) -m bench.coldstart

# The pinned npm packages (frontend/package.json, package-lock.json): codegen, tsc, GraphiQL.
$(NODE_DEPS): frontend/package.json frontend/package-lock.json
	@echo "==> installing the pinned npm packages in frontend/ (npm ci)"
	@cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_DEPS)

# TypeScript types for frontend/operations from schema.graphql (graphql.config.yml), then tsc.
codegen: $(NODE_DEPS)
	@echo "==> graphql-codegen: frontend/generated/graphql.ts"
	@npm --prefix frontend run --silent codegen
	@echo "==> tsc: frontend/src against the generated types"
	@npm --prefix frontend run --silent typecheck

# The web app (frontend/dist, served at /app/): built when missing or older than its sources
# (npm ci first when the lock changed). Without Node.js 20+ and npm, one line says how to get
# it, and make run starts the API anyway; so it does after a failed build (its output above).
WEB_BUNDLE  := frontend/dist/index.html
WEB_SOURCES := $(wildcard frontend/src/*.ts frontend/src/app/*.ts frontend/src/app/*.tsx frontend/src/app/*.css \
                 frontend/operations/*.graphql) frontend/index.html frontend/vite.config.mts frontend/tsconfig.json \
                 frontend/package-lock.json schema.graphql graphql.config.yml
HAS_NODE    := node -e 'process.exit(+process.versions.node.split(".")[0] >= $(NODE_MAJOR) ? 0 : 1)' >/dev/null 2>&1 \
               && command -v npm >/dev/null 2>&1

web:
	@if $(HAS_NODE); then \
	  $(MAKE) -s --no-print-directory $(WEB_BUNDLE) || echo "==> the web app did not build (see above): the API starts without it"; \
	else \
	  echo "==> the web app (/app/) is not built: it needs Node.js $(NODE_MAJOR) or newer with npm (install them, then make run again); the API starts without it"; \
	fi

$(WEB_BUNDLE): $(NODE_DEPS) $(WEB_SOURCES)
	@echo "==> building the web app: codegen, tsc, vite build into frontend/dist"
	@cd frontend && npm run --silent build
	@touch $(WEB_BUNDLE)
	@echo "==> web app built (frontend/dist)"

# Re-copies GraphiQL and React from the pinned packages into app/static/graphiql (committed,
# so that make run needs no npm); run after changing their versions in frontend/package.json.
graphiql-assets: $(NODE_DEPS)
	@node frontend/vendor-graphiql.mjs

# Removes caches only; the venv and the embedded database in .data are kept.
clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
