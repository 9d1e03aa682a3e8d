# rdp: `make demo` and `make test` create .venv on first use, then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: system-deps demo test test-fast lint bench bench-gpu clean install saelens-env

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	  || { echo "rdp needs Python >= 3.11 as $(PYTHON) (install python3.11 or run make PYTHON=python3.11 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m rdp_exact.compiled
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/rdp demo

# System packages the tests need: headless Chromium renders the HTML report (tests/integration/test_html_report.py).
# Installed through apt when missing and we may (root or passwordless sudo); otherwise stop with one line.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then SUDO=; \
	  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=sudo; \
	  else echo "make test: Chromium is missing: install it (Debian/Ubuntu: apt-get install chromium), then run make test again"; exit 1; fi; \
	  echo "installing Chromium (apt-get) for the HTML report tests"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null \
	    || { echo "make test: installing Chromium failed: install it (apt-get install chromium), then run make test again"; exit 1; }; \
	fi

# The whole suite, every tier (unit, solvers, integration, claims).
test: system-deps $(STAMP)
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --timeout 900

# The unit tier only (under a minute).
test-fast: $(STAMP)
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --timeout 300 tests/unit

lint: $(STAMP)
	$(BIN)/ruff check rdp rdp_exact sae_train audit proofs_check tests benchmarks

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all $(BENCH_ARGS)

# On a CUDA machine: the GPU tests and bench_train on CUDA (PYTHON=python3 there uses that machine's torch)
bench-gpu:
	PYTHON=$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) bash benchmarks/gpu_train.sh $(BENCH_ARGS)

clean:
	rm -rf $(VENV) rdp-demo

# Scratch environment with a pinned SAELens, used only for comparison fixtures and benchmarks
# (SAELens is never a dependency of rdp). CPU torch comes through the same constraints file.
SAELENS_VENV := .venv-saelens
SAELENS_STAMP := $(SAELENS_VENV)/.installed
$(SAELENS_STAMP): constraints.txt pyproject.toml
	$(PYTHON) -m venv $(SAELENS_VENV)
	$(SAELENS_VENV)/bin/pip install --quiet --upgrade pip
	$(SAELENS_VENV)/bin/pip install --quiet -c constraints.txt "sae-lens==6.54.12" -e .
	touch $(SAELENS_STAMP)

saelens-env: $(SAELENS_STAMP)

# Regenerate tests/fixtures/saelens/ with real SAELens (scratch env; SAELens is never an rdp dependency).
.PHONY: saelens-fixtures
saelens-fixtures: $(SAELENS_STAMP)
	$(SAELENS_VENV)/bin/python tests/fixtures/saelens/make_fixtures.py

# rdp's batched training side by side with SAELens `train_toy_sae` (bench-results/bench_saelens.{json,md}).
.PHONY: bench-saelens
bench-saelens: $(STAMP) $(SAELENS_STAMP)
	$(BIN)/python -m benchmarks.bench_saelens --saelens-python $(SAELENS_VENV)/bin/python $(BENCH_ARGS)

# Mutation score of the core (issue 14): mutmut pinned in a scratch environment (mutmut and its
# libcst/textual stack are not needed by users or by `make test`); not part of `make test`.
# Writes bench-results/mutation.{json,md}; MUTATION_ARGS="--files audit/proxies.py --max-children 2".
MUTMUT_VENV := .venv-mutmut
MUTMUT_STAMP := $(MUTMUT_VENV)/.installed
$(MUTMUT_STAMP): constraints.txt pyproject.toml
	$(PYTHON) -m venv $(MUTMUT_VENV)
	$(MUTMUT_VENV)/bin/pip install --quiet --upgrade pip
	$(MUTMUT_VENV)/bin/pip install --quiet -c constraints.txt "mutmut==3.8.1" -e '.[dev]'
	touch $(MUTMUT_STAMP)

.PHONY: mutation
mutation: $(MUTMUT_STAMP)
	$(MUTMUT_VENV)/bin/python -m benchmarks.mutation $(MUTATION_ARGS)
