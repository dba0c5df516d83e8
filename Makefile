# worldsim: `make demo` runs the main job on the shipped checkpoint; `make test` runs the suite.
# Both create .venv and install everything on first use.

PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export MUJOCO_GL ?= egl
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup demo test lint bench checkpoint clean

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

# Reproduces the shipped checkpoint: collect ground truth from the four scenes, then train.
# About 10 minutes of collection and autoencoder, then the DiT for DIT_MINUTES, on a 2-core CPU.
DATA        := data/default
DIT_STEPS   ?= 2400
DIT_MINUTES ?= 75
checkpoint: $(STAMP)
	$(BIN)/worldsim collect --env WorldSim/Playground-v0 --episodes 300 --steps 30 --policy random --out $(DATA)/playground --workers 2
	$(BIN)/worldsim collect --env WorldSim/PushBox-v0 --episodes 300 --steps 30 --policy scripted --out $(DATA)/pushbox --workers 2
	$(BIN)/worldsim collect --env WorldSim/Occlusion-v0 --episodes 150 --steps 30 --policy scripted --out $(DATA)/occlusion --workers 2
	$(BIN)/worldsim collect --env WorldSim/TwoAgents-v0 --episodes 150 --steps 30 --policy random --out $(DATA)/twoagents --workers 2
	$(BIN)/worldsim train --data $(DATA)/playground $(DATA)/pushbox $(DATA)/occlusion $(DATA)/twoagents \
		--out runs/default --ae.steps 1000 --dit.steps $(DIT_STEPS) --time-budget-min $(DIT_MINUTES) $(if $(RESUME),--resume,)
	rm -rf worldsim/checkpoints/default && mkdir -p worldsim/checkpoints && cp -r runs/default/model worldsim/checkpoints/default

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
