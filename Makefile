# The two commands: `make demo` runs the main job, `make test` runs the tests.
# Both first install what they need (ngspice with KLU, .venv, the package).
VENV ?= .venv
# The suite runs on TEST_WORKERS processes (pytest-xdist; units of work are files, and each
# docs page and notebook, see tests/conftest.py); BLAS stays single-threaded in the workers
# so two workers do not oversubscribe two cores. `make test PYTEST_ARGS=tests/test_x.py`
# runs one file in one process.
TEST_WORKERS ?= 2
PYTEST_ARGS ?= -n $(TEST_WORKERS) --dist loadgroup

.PHONY: setup demo test bench bench-scale bench-cells bench-mvm bench-readout peers bench-sweep notebooks golden docs docs-check clean

setup:
	@bash tools/setup.sh

# The main job (64x64 array, three engines, table, voltage maps), then the same array
# with a capacitor integrator on every column in an ngspice transient, then a small
# neural-network layer (64x256 weights: 64 outputs, 256 inputs, on 64x64 tiles) with its error budget.
# `spicebar demo` runs all three steps (spicebar.cli.main.run_demo_rest lists them).
demo: setup
	$(VENV)/bin/spicebar demo --out-dir demo_out

test: setup
	OPENBLAS_NUM_THREADS=1 $(VENV)/bin/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(VENV)/bin/python benchmarks/bench_engines.py

bench-cells: setup
	$(VENV)/bin/python benchmarks/bench_cells.py

bench-mvm: setup
	$(VENV)/bin/python benchmarks/bench_mvm.py

bench-readout: setup
	$(VENV)/bin/python benchmarks/bench_readout.py

# badcrossbar in its own venv (benchmarks/.venv-peers), for bench-scale only.
peers:
	@bash tools/setup_peers.sh

bench-scale: setup peers
	$(VENV)/bin/python benchmarks/bench_scale.py

# The 48-point IR-drop sweep from scratch: time, summary table, docs/sweep_ir_drop.png.
bench-sweep: setup
	$(VENV)/bin/python benchmarks/bench_sweep.py --docs

# Regenerate the notebooks from tools/make_notebooks.py, executed, with their outputs.
notebooks: setup
	$(VENV)/bin/python tools/make_notebooks.py --execute

# The documentation site: Sphinx + MyST from docs/ into docs/_build/html, warnings as errors.
# `make setup` installs the [docs] extra (Sphinx, MyST-Parser, myst-nb, Furo).
docs: setup
	$(VENV)/bin/python -m sphinx -b html -W --keep-going -q docs docs/_build/html
	@echo "spicebar docs: open docs/_build/html/index.html"

# The built site in a real browser (headless Chromium): the landing page and a reference page.
docs-check: docs
	bash tools/check_docs_browser.sh docs/_build/html

# Regenerate the golden netlists on purpose (then review the diff).
golden: setup
	$(VENV)/bin/python -m tests.golden_cases --write

clean:
	rm -rf demo_out benchmarks/out .pytest_cache docs/_build docs/notebooks
