# Two entry points for a newcomer: `make demo` and `make test`. Everything else is a step
# they share. Every step is idempotent: a second run reuses what exists.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LANDGOV_HOME ?= $(CURDIR)/.landgov
export LANDGOV_HOME
UV_VERSION := 0.13.9
# Debian packages the platform needs: PostGIS for storage, Chromium for the browser test,
# Noto fonts (Nastaliq Urdu) for fard PDFs, poppler (pdftoppm) to render them in tests.
APT_PACKAGES := postgresql-15 postgresql-15-postgis-3 postgis chromium fonts-noto-core poppler-utils
# QGIS's own Python: the tests read the API as a GIS unit's QGIS does (make test only)
TEST_APT_PACKAGES := python3-qgis
API_PORT ?= 8600

.PHONY: demo test setup venv system db lint typecheck clean

# The batch steps after `landgov demo` run as their service accounts (keys provisioned by
# `landgov db migrate` under $(LANDGOV_HOME)/secrets/services, 0600); nobody signs in.
# `landgov demo --accounts` prints where the demo's login accounts are (never the secrets).
# The API (landgov serve api) runs beside the dashboard while it runs; its demo clients'
# credentials go to 0600 files under $(LANDGOV_HOME)/demo (kept by a second run).
demo: setup
	$(BIN)/landgov db up
	$(BIN)/landgov db migrate
	$(BIN)/landgov demo
	$(BIN)/landgov tax rates load dc $(LANDGOV_HOME)/demo/dc_rates.csv
	$(BIN)/landgov imagery synthesize --orthophotos
	$(BIN)/landgov imagery batch --index ndvi --index wdrvi --index ndmi
	$(BIN)/landgov models predict --season "kharif 2025" --season "rabi 2025-26"
	$(BIN)/landgov detect encroachment --mouza 1 --before 2024-03-01 --after 2026-03-01
	$(BIN)/landgov disputes scan
	$(BIN)/landgov valuation run --as-of 2026-11-15  # the demo's "today": DC values
	$(BIN)/landgov valuation run --as-of 2026-11-15 --method model  # trains the models
	$(BIN)/landgov advisories contacts load $(LANDGOV_HOME)/demo/farmer_contacts.csv
	$(BIN)/landgov advisories run --as-of 2026-03-05 \
		--district-yields $(LANDGOV_HOME)/synthetic/sentinel-2/district_yields.csv  # mid-rabi
	$(BIN)/landgov demo --accounts
	$(BIN)/landgov api-clients add demo-agency --agency "Demo agency (a bank, the tax office)" \
		--scopes fard:read,parcels:read,valuation:read,holdings:read \
		--api-url http://127.0.0.1:$(API_PORT)/v1 \
		--credentials $(LANDGOV_HOME)/demo/api-client.json --reuse
	$(BIN)/landgov api-clients add demo-gis --agency "Demo GIS unit (QGIS)" --scopes parcels:read \
		--auth api_key --api-url http://127.0.0.1:$(API_PORT)/v1 \
		--credentials $(LANDGOV_HOME)/demo/api-gis.json --reuse
	@echo "API: http://127.0.0.1:$(API_PORT)/v1 (docs: /v1/docs; examples: docs/api.md)"
	@echo "  demo client credentials (0600): $(LANDGOV_HOME)/demo/api-client.json;" \
		"for QGIS: $(LANDGOV_HOME)/demo/api-gis.json"
	$(BIN)/landgov serve api --host 127.0.0.1 --port $(API_PORT) & api=$$!; \
	trap 'kill $$api 2>/dev/null' EXIT; \
	$(BIN)/streamlit run app/dashboard.py --server.address 127.0.0.1 --server.port 8501 \
		--server.headless true --browser.gatherUsageStats false --client.toolbarMode viewer

test: setup
	@$(MAKE) --no-print-directory system APT_PACKAGES="$(TEST_APT_PACKAGES)"
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/landgov db up
	$(BIN)/python -m pytest

setup: system venv

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv==$(UV_VERSION)
	$(BIN)/uv pip sync -q --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python --no-deps -e .
	touch $@

# Installs the Debian packages only when one is missing; without root it prints the command.
system:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
		| grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$(echo $$missing)"; \
		if [ "$$(id -u)" = 0 ]; then echo "installing: $$missing"; bash -c "$$cmd" >/dev/null || exit 1; \
		else echo "Missing system packages. Run as root:"; echo "  $$cmd"; exit 1; fi; \
	fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	-$(BIN)/landgov db down
	rm -rf $(VENV) $(LANDGOV_HOME)
