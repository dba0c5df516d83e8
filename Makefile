# worldsim: `make demo` runs the main job on the shipped checkpoint; `make test` runs the suite.
# Both create .venv and install everything on first use.

PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export MUJOCO_GL ?= egl
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

# torch==2.13.0 goes in first, on its own: it is the CPU build, and it satisfies the
# range in pyproject.toml, so the project install never pulls a CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/worldsim demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/worldsim bench --json benchmarks/results.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
