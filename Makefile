# The two set-up commands are `make run` and `make test`; everything else is a convenience.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PORT   ?= 8029
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run test test-fast lint format package bench-cold-import clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[ml,crypto,llm,local,dev,reports]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Run the whole local topology (Postgres, moto, gateway on :8029, scheduler, poller, demo data).
run: install
	$(PY) -m infra.local.run --port $(PORT)

## Install and run the whole test suite.
test: install
	$(PY) -m pytest -q -n 2 --dist loadfile

test-fast: install
	$(PY) -m pytest -q -m "not slow" -x

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Build the core and ml layers and one zip per function; fail if any exceeds Lambda's 250 MB unzipped.
package: install
	$(PY) -m infra.package --verify

clean:
	rm -rf build .pytest_cache .ruff_cache

# -- issue 8, dashboard slice ------------------------------------------------------------------------------------
.PHONY: dashboard chromium test-browser screenshots deploy-dashboard

## Build dashboard/dist when it is missing or older than its sources (npm ci from the lock file + vite build).
dashboard: install
	$(PY) -m infra.local.dashboard_build

## Debian's Chromium for the browser tests, installed with apt-get when missing (CI runs as root).
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "chromium is missing: install Debian's chromium package (apt-get install chromium)"; exit 1; fi; }

## `make test` also needs the browser and the built dashboard (tests/browser).
test: chromium dashboard

## Only the browser tests (Playwright driving /usr/bin/chromium against the local stack).
test-browser: install chromium dashboard
	$(PY) -m pytest -q -m browser tests/browser

## Regenerate dashboard/screenshots/*.png from a fresh local stack with demo data.
screenshots: install chromium dashboard
	$(PY) dashboard/screenshots.py

## Upload dashboard/dist to the stack's DashboardBucket and invalidate CloudFront (needs AWS credentials).
deploy-dashboard: install
	$(PY) dashboard/deploy.py --stack $(STACK)

# -- issue 9, security hygiene slice -----------------------------------------------------------------------------
.PHONY: audit

## Dependency audit: pip-audit --strict over the installed environment; reviewed ignores in infra/dep_audit.py.
audit: install
	$(PY) -m infra.dep_audit

## `make test` audits the dependencies before running pytest.
test: audit
