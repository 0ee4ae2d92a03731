# The two commands: `make demo` runs the main job, `make test` runs the tests.
# Both first install what they need (ngspice with KLU, .venv, the package).
VENV ?= .venv
PYTEST_ARGS ?=

.PHONY: setup demo test bench bench-scale peers bench-sweep notebooks golden clean

setup:
	@bash tools/setup.sh

demo: setup
	$(VENV)/bin/spicebar demo --out demo_out

test: setup
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(VENV)/bin/python benchmarks/bench_engines.py

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

# Regenerate the golden netlists on purpose (then review the diff).
golden: setup
	$(VENV)/bin/python -m tests.golden_cases --write

clean:
	rm -rf demo_out benchmarks/out .pytest_cache
