# Two entry points: `make demo` runs the pipeline on the bundled samples, `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test install install-dev corpus bench clean notebooks

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	# the CPU build of torch first, so sentence-transformers does not pull a CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[st,dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/icc-practices run data/raw --out data/processed

# one worker per core; a test file stays on one worker, so its module fixtures are built once
test: install-dev
	$(BIN)/python -m pytest -n auto --dist loadfile tests

corpus: install-dev
	$(BIN)/python scripts/build_corpus.py

bench: install-dev
	$(BIN)/pip install -q -e ".[st,dev,scale]"
	$(BIN)/python benchmarks/run_all.py

notebooks: install
	$(BIN)/pip install -q -e ".[notebooks]"
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf data/processed/*.parquet data/processed/manifest.json data/processed/.cache data/processed/reports
