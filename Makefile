# Two commands set everything up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-fast bench lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Demo: the bundled real advisories and a synthetic hospital inventory drawn from them, in ./vigil.db, matched.
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
	@echo
	@echo "Data is in ./vigil.db. Try: $(BIN)/vigil advisories show ICSMA-21-019-01 --format json"
	@echo "                            $(BIN)/vigil findings --format json --limit 5"
	@echo "                            $(BIN)/vigil findings --match possible --review pending"

test: install
	$(BIN)/pytest -n 2 --dist loadgroup

bench: install
	$(BIN)/python bench/import_corpus.py
	$(BIN)/python bench/import_inventory.py
	$(BIN)/python bench/version_notations.py
	$(BIN)/python bench/match_inventory.py

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache vigil.db vigil.db-wal vigil.db-shm
