# PhuSong — `make run` (start the app) and `make test` (run every test) on a fresh Debian machine.
# Targets are idempotent: packages are reinstalled only when a requirements file changes (stamp files).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
ADDRESS ?=
DATA   ?= data
STAMP_RUN := $(VENV)/.installed-requirements
STAMP_DEV := $(VENV)/.installed-requirements-dev
# numba compiles the coverage kernel on first use (~30 s) and caches it in __pycache__;
# `make run` does that once at install time so the first map is not kept waiting. numba's cache
# checks only the file a function is in, so a change to any kernel module recompiles all of them.
STAMP_JIT := $(VENV)/.compiled-coverage-kernel
# Debian packages the test suite uses: Chromium (browser tests), gdal-bin (ogrinfo), poppler-utils (pdftotext).
APT_PACKAGES := chromium:chromium gdal-bin:ogrinfo poppler-utils:pdftotext
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: run test venv install install-dev sysdeps bench lint clean

# cli/serve.py checks the users file first: none -> demo mode bound to 127.0.0.1 (ADDRESS empty or
# localhost); accounts -> sign-in on ADDRESS; none and another ADDRESS -> refused, exit 2 (docs/ACCESS.md).
run: install $(STAMP_JIT)
	PHUSONG_DATA=$(DATA) $(BIN)/python -m cli.serve --port $(PORT) --address "$(ADDRESS)"

test: install-dev sysdeps
	$(BIN)/python -m pytest

bench: install-dev sysdeps
	@set -e; for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script; done

lint: install-dev
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy

venv: $(BIN)/python

install: $(STAMP_RUN)

install-dev: $(STAMP_DEV)

# python3 -m venv needs Debian's python3-venv (ensurepip); install it when missing and we are root.
$(BIN)/python:
	@if ! $(PYTHON) -m venv $(VENV); then \
		rm -rf $(VENV); \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv \
			&& $(PYTHON) -m venv $(VENV); \
		else \
			echo "error: '$(PYTHON) -m venv' failed; install it with: sudo apt-get install python3-venv" >&2; exit 1; \
		fi; \
	fi

$(STAMP_RUN): requirements.txt | $(BIN)/python
	$(PIP) install -r requirements.txt
	touch $@

KERNEL_SOURCES := $(wildcard analysis/_coverage_kernel/*.py) analysis/_terrain_numba.py

$(STAMP_JIT): $(STAMP_RUN) $(KERNEL_SOURCES)
	@echo "compiling the coverage and terrain kernels once (about 40 s)..."
	@rm -f analysis/_coverage_kernel/__pycache__/*.nbi analysis/_coverage_kernel/__pycache__/*.nbc
	@tmp=$$(mktemp -d) && $(BIN)/python -m analysis coverage data --out $$tmp/warmup.tif >/dev/null \
		&& rm -rf $$tmp
	@$(BIN)/python -c "import numpy as np; from analysis.terrain import diffraction_loss_db as f; \
		f(np.zeros((8, 8), np.float32), 100.0, (0, 0), (slice(0, 8), slice(0, 8)), tx_height_m=30, \
		rx_height_m=1.5, f_mhz=1800)"
	@touch $@

$(STAMP_DEV): requirements.txt requirements-dev.txt | $(BIN)/python
	$(PIP) install -r requirements-dev.txt
	touch $(STAMP_RUN) $@

# Install missing Debian packages when root; otherwise say what is missing (browser tests then
# skip with a visible reason, or fail when CI=true).
sysdeps:
	@missing=""; \
	for pair in $(APT_PACKAGES); do \
		pkg=$${pair%%:*}; cmd=$${pair##*:}; \
		command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
		else \
			echo "warning: missing Debian packages:$$missing (run: sudo apt-get install$$missing)" >&2; \
		fi; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
