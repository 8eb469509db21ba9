# Two commands set everything up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The demo's web login (local demo data only; `vigil users set-password demo` changes it).
DEMO_PASSWORD ?= quiet-harbour-lantern-42

.PHONY: install run test test-fast bench lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Demo: the bundled real advisories and a synthetic hospital inventory drawn from them, in ./vigil.db, matched,
# prioritised, with action items, a report and a VEX for one site, the audit trail verified; then served.
run: install
	$(BIN)/vigil advisories import --quiet demo/advisories demo/vendor-advisories
	$(BIN)/vigil advisories list
	$(BIN)/vigil advisories show ICSMA-21-019-01
	$(BIN)/vigil advisories show PHILIPS-2021-01-14-IPMI
	@mkdir -p build
	$(BIN)/vigil inventory generate --assets 500 --seed 1 --out build/demo-inventory.csv
	$(BIN)/vigil inventory import --quiet build/demo-inventory.csv
	$(BIN)/vigil inventory list --limit 15
	$(BIN)/vigil match
	$(BIN)/vigil findings --by-cve --cve CVE-2020-27298
	$(BIN)/vigil priorities --cve CVE-2020-27298 --limit 10
	$(BIN)/vigil actions list --site "St. Elsewhere General" --advisory PHILIPS-2021-01-14-IPMI
	$(BIN)/vigil report --site "St. Elsewhere General" --format html --out build/report-st-elsewhere-general.html
	$(BIN)/vigil vex export --site "St. Elsewhere General" --format csaf --out build/vex-st-elsewhere-general.json
	$(BIN)/vigil audit verify
	@$(BIN)/vigil users list --format json | grep -q '"demo"' || \
	  printf '%s\n' '$(DEMO_PASSWORD)' | $(BIN)/vigil users add demo --role admin --password-stdin
	@echo
	@echo "Data is in ./vigil.db. Try: $(BIN)/vigil advisories show ICSMA-21-019-01 --format json"
	@echo "                            $(BIN)/vigil findings --format json --limit 5"
	@echo "                            $(BIN)/vigil findings --match possible --review pending"
	@echo "                            $(BIN)/vigil findings set-status ID mitigated --by NAME --evidence TEXT"
	@echo "Report and VEX of St. Elsewhere General: build/report-st-elsewhere-general.html, build/vex-st-elsewhere-general.json"
	@echo
	@echo "Web UI: http://127.0.0.1:8000/   API docs: http://127.0.0.1:8000/docs   login: demo / $(DEMO_PASSWORD)"
	$(BIN)/vigil serve --host 127.0.0.1 --port 8000

test: install
	$(BIN)/pytest -n 2 --dist loadgroup

bench: install
	$(BIN)/python bench/import_corpus.py
	$(BIN)/python bench/import_inventory.py
	$(BIN)/python bench/version_notations.py
	$(BIN)/python bench/match_inventory.py
	$(BIN)/python bench/audit_verify.py
	$(BIN)/python bench/response_workflow.py
	$(BIN)/python bench/api.py

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache vigil.db vigil.db-wal vigil.db-shm
