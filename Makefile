# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# xstatic-bootstrap ships no wheel and does not build with setuptools >= 81.
export PIP_CONSTRAINT := $(CURDIR)/constraints-build.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint format bench bench-wall bench-fuzz clean

$(VENV)/.installed: requirements.txt constraints-build.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	./scripts/fonts.sh
	$(PY) -m dashboard run

test: lint
	./scripts/browser-deps.sh
	$(PY) -m pytest $(PYTEST_ARGS)

# Style, and the layers as a contract (pyproject.toml [tool.importlinter], docs/architecture.md).
lint: $(VENV)/.installed-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(VENV)/.installed-dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: $(VENV)/.installed-dev
	$(PY) -m bench.run

# Half an hour of the wall in headless Chromium (needs the demo city: `make run` once first).
bench-wall: $(VENV)/.installed-dev
	$(PY) -m bench.wall_memory --minutes 32 --refresh 1

# 100,000 generated API inputs and 5,000 import files: no 5xx, no partial write.
bench-fuzz: $(VENV)/.installed-dev
	$(PY) -m bench.fuzz --inputs 100000 --files 5000

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
