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
	$(PY) -m pip install --quiet -e ".[ml,crypto,llm,local,dev]"
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
