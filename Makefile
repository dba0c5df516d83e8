# worldsim: `make demo` runs the main job on the shipped checkpoint; `make test` runs the suite.
# Both create .venv and install everything on first use.

PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export MUJOCO_GL ?= egl
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup demo test lint bench bench-gpu checkpoint next-checkpoint next-teacher next-recall collect-stores results reach-stores dream-to-real reach-policy reach-curve clean

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
	$(BIN)/worldsim bench --json outputs/bench.json

# Batched learned-simulator throughput on a CUDA GPU beside MuJoCo on the host's cores, in one
# command of under 10 minutes (outputs/gpu_throughput.json). Without a GPU: add ARGS=--dry-run.
bench-gpu: $(STAMP)
	$(BIN)/python benchmarks/gpu_throughput.py --json outputs/gpu_throughput.json $(ARGS)

# Reproduces the shipped checkpoint: collect ground truth from the four scenes, pre-train, then
# fine-tune four times (1,500, 3,000, 6,000 and 6,000 steps) with 6,000 extra first frames added to
# the teacher-forced loss, so that frame 0 can be drawn from text alone, and a fifth time (1,500
# steps, weight average) with clips that start at the episode's first frame in the two scenes that
# start at rest, so that the first step from rest is not overshot; then the decoder alone trains on
# (10,000 steps; encoder, latent space and DiT frozen); last, the DiT trains on 3,200 more episodes of
# 60 steps (3,400 steps); it is distilled to 2 denoising moves a frame (2,000 steps), stored with float16
# weights and its rollout settings (the latent hold), and last trains 150 steps on clips of 12 steps (so
# that most steps see the full window a rollout has) and is stored again with its 2 moves. On a 2-core
# CPU: about 2 minutes of collection, 3 minutes of autoencoder, 60 minutes of DiT, 7 hours of
# fine-tuning and 11 minutes of decoder. The DiT keeps the tanh GELU the shipped model was trained with.
# Interrupted? `make checkpoint RESUME=1` continues from the last saved step.
DATA   := data/default
STORES := $(DATA)/playground $(DATA)/pushbox $(DATA)/occlusion $(DATA)/twoagents
FIRST  := data/first
FIRSTS := $(FIRST)/playground $(FIRST)/pushbox $(FIRST)/occlusion $(FIRST)/twoagents
MORE   := data/more
MORES  := $(MORE)/playground $(MORE)/pushbox $(MORE)/occlusion $(MORE)/twoagents
FIRST_FT := $(BIN)/worldsim finetune --data $(STORES) --context-steps 4 --rollout-steps 0 \
	--first-frames $(FIRSTS) --first-frame-batch 64 --lr 2e-4 --save-every 250 \
	$(if $(RESUME),--resume,)

checkpoint: $(STAMP)
	$(MAKE) --no-print-directory collect-stores
	$(BIN)/worldsim train --data $(STORES) --out runs/default --ae.steps 1000 --dit.steps 3200 --dit.no-exact-gelu \
		--time-budget-min 80 $(if $(RESUME),--resume,)
	$(FIRST_FT) --checkpoint runs/default/model --out runs/first_frames --steps 1500 \
		--json runs/first_frames/report.json
	$(FIRST_FT) --checkpoint runs/first_frames/model --out runs/first_frames_2 --steps 3000 \
		--json runs/first_frames_2/report.json
	$(FIRST_FT) --checkpoint runs/first_frames_2/model --out runs/first_frames_3 --steps 6000 \
		--json runs/first_frames_3/report.json
	$(FIRST_FT) --checkpoint runs/first_frames_3/model --out runs/first_frames_4 --steps 6000 \
		--json runs/first_frames_4/report.json
	$(BIN)/worldsim finetune --checkpoint runs/first_frames_4/model --data $(STORES) \
		--first-frames $(FIRSTS) --first-frame-batch 64 --context-steps 4 --steps 1500 \
		--start-prob 0 0.3 0 0.3 --lr 1e-4 --ema 0.998 --save-every 250 \
		--out runs/start_clips --check-episodes 16 --json runs/start_clips/report.json \
		$(if $(RESUME),--resume,)
	$(BIN)/worldsim finetune-decoder --checkpoint runs/start_clips/model --data $(STORES) --steps 10000 \
		--out runs/decoder --json runs/decoder/report.json $(if $(RESUME),--resume,)
	$(BIN)/worldsim finetune --checkpoint runs/decoder/model --data $(STORES) $(MORES) \
		--first-frames $(FIRSTS) --first-frame-batch 32 --steps 3400 \
		--start-prob 0 0.3 0 0.3 0 0.3 0 0.3 --lr 1e-4 --ema 0.998 --save-every 100 \
		--out runs/more_data --check-episodes 0 $(if $(RESUME),--resume,)
	$(BIN)/worldsim finetune --checkpoint runs/more_data/model --distill-from runs/more_data/model --distill-steps 2 \
		--data $(STORES) $(MORES) --first-frames $(FIRSTS) --first-frame-batch 32 \
		--start-prob 0 0.3 0 0.3 0 0.3 0 0.3 --steps 2000 --lr 5e-5 --ema 0.998 --save-every 100 \
		--out runs/distill2 --check-episodes 0 $(if $(RESUME),--resume,)
	$(BIN)/worldsim convert --checkpoint runs/distill2/model --out runs/distill2_f16 --storage float16 \
		--latent-hold 0.2 --latent-grid 0
	$(BIN)/worldsim finetune --checkpoint runs/distill2_f16 --data $(MORE)/pushbox $(MORE)/playground $(MORE)/occlusion \
		--first-frames $(FIRSTS) --first-frame-batch 16 --clip-steps 12 --batch-size 8 --start-prob 0.3 0 0 \
		--steps 150 --lr 5e-5 --ema 0.99 --save-every 50 --out runs/clips12 --check-episodes 0 \
		$(if $(RESUME),--resume,)
	$(BIN)/worldsim convert --checkpoint runs/clips12/model --out worldsim/checkpoints/default --storage float16 \
		--latent-hold 0.2 --latent-grid 0 --sampling-steps 2

# A candidate next checkpoint: the same stores, a DiT pre-trained from scratch with attention by
# row and column (12,000 steps, weight average 0.998); first frames and clips from rest
# (3,000 steps); layout tokens for first frames (one per agent, object, goal and slab of the scene: this
# network reads no place words from the caption alone), 6,000 steps of first frames at twice the batch and
# lr 2e-4; a pooled memory of the 12 steps before the 4-step window, on Occlusion alone (700 steps of
# 20-step clips); the loss weighted on the cells where an object comes back out from under the slab, with
# clips drawn around such returns and first frames beside them (1,500 steps); distillation to 2 moves on
# 20-step clips (1,000 steps), stored with float16 weights and a latent hold of $(NEXT_HOLD) (this line
# moves what moves in large steps, so a wider hold than the shipped model's 0.2 keeps still cells
# without stopping motion). It goes to runs/next/model,
# benchmarks/returns.py scores it in outputs/returns/next.json, and it replaces the shipped one only if
# `make results` on it measures better. About 3 hours of pre-training on a 2-core CPU, then 5 hours;
# every stage resumes.
# PRECISION=bfloat16 trains every stage faster on a GPU or a CPU with bfloat16 instructions (AVX512-BF16,
# AMX); where a CPU lacks them bfloat16 is emulated and many times slower than float32.
PRECISION ?= float32
NEXT_HOLD ?= 0.8
# BATCH=256 (or more) fills a GPU; the stages after pre-training take half of it for their clips, and a
# quarter for clips of 20 steps.
BATCH ?= 32
HALF_BATCH = $(shell echo $$(( $(BATCH) > 1 ? $(BATCH) / 2 : 1 )))
LONG_BATCH = $(shell echo $$(( $(BATCH) > 3 ? $(BATCH) / 4 : 1 )))
DOUBLE_BATCH = $(shell echo $$(( 2 * $(BATCH) )))
# $(call distil,MODEL,RUN,OUT): MODEL (4 moves) taught to draw in 2 what it draws in 4, working in RUN (resumable),
# then stored with float16 weights and its rollout settings in OUT.
# $(call first_frames,MODEL,RUN,STEPS): STEPS of clips (from rest in the scenes that start at rest, 3 in 10) and
# of first frames drawn from text, at lr 1e-4, working in RUN (resumable).
define first_frames
	$(BIN)/worldsim finetune --checkpoint $(1) --data $(STORES) $(MORES) --first-frames $(FIRSTS) \
		--batch-size $(HALF_BATCH) --first-frame-batch $(BATCH) --precision $(PRECISION) \
		--start-prob 0 0.3 0 0.3 0 0.3 0 0.3 --steps $(3) --lr 1e-4 --ema 0.998 \
		--save-every 100 --out $(2) --check-episodes 0 --resume
endef
# $(4), optional: arguments that replace the clips' default length and batch (a memory model's longer clips).
define distil
	$(BIN)/worldsim finetune --checkpoint $(1) --distill-from $(1) --distill-steps 2 \
		--data $(STORES) $(MORES) --first-frames $(FIRSTS) --first-frame-batch $(BATCH) \
		$(or $(4),--batch-size $(HALF_BATCH) --steps 2000) --precision $(PRECISION) \
		--start-prob 0 0.3 0 0.3 0 0.3 0 0.3 --lr 5e-5 --ema 0.998 --save-every 100 \
		--out $(2) --check-episodes 0 --resume
	$(BIN)/worldsim convert --checkpoint $(2)/model --out $(3) --storage float16 --latent-hold $(NEXT_HOLD) --latent-grid 0
endef
# Each stage leaves runs/<stage>/.done when it has finished, so that `make next-checkpoint` run again goes
# on from the first unfinished stage (resuming it) and never trains a finished one over.
next-checkpoint: runs/pre_distill/.done

runs/pre/.done: | $(STAMP)
	$(MAKE) --no-print-directory collect-stores
	$(BIN)/worldsim train --data $(STORES) $(MORES) --autoencoder worldsim/checkpoints/default --out runs/pre \
		--dit.steps 12000 --dit.precision $(PRECISION) --dit.ema 0.998 --dit.spatial-rope \
		--dit.batch-size $(BATCH) --save-every 250 $(if $(wildcard runs/pre/state/state.json),--resume,)
	touch $@

# first frames and clips from rest (its measured longer variants: benchmarks/README.md)
runs/pre_ft/.done: | $(STAMP) runs/pre/.done
	$(call first_frames,runs/pre/model,runs/pre_ft,3000)
	touch $@

runs/pre_lay/.done: | $(STAMP) runs/pre_ft/.done
	$(BIN)/worldsim finetune --checkpoint runs/pre_ft/model --layout --data $(STORES) $(MORES) \
		--first-frames $(FIRSTS) --batch-size $(HALF_BATCH) --first-frame-batch $(DOUBLE_BATCH) \
		--precision $(PRECISION) --start-prob 0 0.3 0 0.3 0 0.3 0 0.3 --steps 6000 --lr 2e-4 --ema 0.998 \
		--save-every 250 --out runs/pre_lay --check-episodes 0 --resume
	touch $@

runs/pre_mem/.done: | $(STAMP) runs/pre_lay/.done
	$(BIN)/worldsim finetune --checkpoint runs/pre_lay/model --data $(MORE)/occlusion --window 4 --memory 12 \
		--clip-steps 20 --steps 700 --lr 2e-4 --batch-size $(LONG_BATCH) --precision $(PRECISION) --ema 0.99 \
		--save-every 100 --out runs/pre_mem --check-episodes 0 --resume
	touch $@

runs/pre_ret/.done: | $(STAMP) runs/pre_mem/.done
	$(BIN)/worldsim finetune --checkpoint runs/pre_mem/model --data $(RETURN_DATA) --clip-steps 20 --steps 1500 \
		--first-frames $(FIRSTS) --first-frame-batch $(HALF_BATCH) --lr 1.5e-4 --batch-size $(LONG_BATCH) \
		--precision $(PRECISION) --ema 0.995 --flow.return-weight 100 --return-prob 0.3 --save-every 100 \
		--out runs/pre_ret --check-episodes 0 --resume
	touch $@

runs/pre_distill/.done: | $(STAMP) runs/pre_ret/.done
	$(call distil,runs/pre_ret/model,runs/pre_distill,runs/next/model,--clip-steps 20 --batch-size $(LONG_BATCH) --steps 1000)
	$(BIN)/python benchmarks/returns.py --checkpoint runs/next/model --json outputs/returns/next.json
	touch $@

# Its long-horizon variant, for comparison with runs/next/model: from the first-frame stage's model, MuJoCo
# teaches the model on its own rollouts (12 of its own steps unrolled, then 4 steps whose targets MuJoCo
# renders from the scene read off its frames), then the same distillation and conversion, into
# runs/next_teacher/model. Needs runs/pre_ft/model (`make next-checkpoint`); about 5 s a step here.
TEACHER_DATA := $(MORE)/pushbox $(MORE)/playground $(MORE)/occlusion
next-teacher: | $(STAMP) runs/pre_ft/.done
	$(BIN)/worldsim finetune --checkpoint runs/pre_ft/model --data $(TEACHER_DATA) --context-steps 4 \
		--rollout-burn-in 12 --rollout-steps 4 --physics-teacher --clip-steps 12 --steps 1000 --lr 1e-4 \
		--batch-size 8 --precision $(PRECISION) --ema 0.998 --save-every 50 --out runs/pre_teacher \
		--check-episodes 0 --resume
	$(call distil,runs/pre_teacher/model,runs/pre_teacher_distill,runs/next_teacher/model)

# Where an object comes back out from under the slab, the chain's stages pre_mem and pre_ret train
# recall on these stores.
RETURN_DATA := $(MORE)/occlusion $(DATA)/occlusion $(MORE)/pushbox $(MORE)/playground

# The recall variant of the shipped checkpoint: the pooled memory of the 12 steps before its 4-step window and
# the loss weighted on the cells where an object comes back into view, with clips drawn around such returns and
# first frames from text beside them (1,000 steps), then distilled back to 2 moves (500 steps) and stored with
# float16 weights and the latent hold in runs/recall/model; benchmarks/returns.py scores it in
# outputs/returns/recall.json. It replaces the shipped checkpoint only if `make results` on it measures better.
# About 3 s a step on a 2-core CPU, so about 1 hour 20 minutes; every stage resumes.
RECALL_DATA := $(RETURN_DATA) $(MORE)/twoagents
next-recall: | $(STAMP)
	$(MAKE) --no-print-directory collect-stores
	$(BIN)/worldsim finetune --checkpoint worldsim/checkpoints/default --data $(RECALL_DATA) --memory 12 \
		--clip-steps 20 --first-frames $(FIRSTS) --first-frame-batch 16 --steps 1000 --lr 1.5e-4 --batch-size 8 \
		--precision $(PRECISION) --ema 0.995 --flow.return-weight 100 --return-prob 0.3 --save-every 100 \
		--out runs/recall_ft --check-episodes 0 --resume
	$(BIN)/worldsim finetune --checkpoint runs/recall_ft/model --distill-from runs/recall_ft/model --distill-steps 2 \
		--data $(RECALL_DATA) --clip-steps 20 --first-frames $(FIRSTS) --first-frame-batch 16 --steps 500 \
		--lr 5e-5 --batch-size 8 --precision $(PRECISION) --ema 0.998 --save-every 100 --out runs/recall_distill \
		--check-episodes 0 --resume
	$(BIN)/worldsim convert --checkpoint runs/recall_distill/model --out runs/recall/model --storage float16 \
		--latent-hold 0.2 --latent-grid 0
	$(BIN)/python benchmarks/returns.py --checkpoint runs/recall/model --json outputs/returns/recall.json

# The episode stores the checkpoints train on (each collection resumes where it stopped).
collect-stores: $(STAMP)
	$(BIN)/worldsim collect --env WorldSim/Playground-v0 --episodes 300 --steps 30 --policy random --out $(DATA)/playground --workers 2
	$(BIN)/worldsim collect --env WorldSim/PushBox-v0 --episodes 300 --steps 30 --policy scripted --out $(DATA)/pushbox --workers 2
	$(BIN)/worldsim collect --env WorldSim/Occlusion-v0 --episodes 150 --steps 30 --policy scripted --out $(DATA)/occlusion --workers 2
	$(BIN)/worldsim collect --env WorldSim/TwoAgents-v0 --episodes 150 --steps 30 --policy random --out $(DATA)/twoagents --workers 2
	$(BIN)/worldsim collect --env WorldSim/Playground-v0 --episodes 1500 --steps 1 --policy random --out $(FIRST)/playground --workers 2
	$(BIN)/worldsim collect --env WorldSim/PushBox-v0 --episodes 1500 --steps 1 --policy scripted --out $(FIRST)/pushbox --workers 2
	$(BIN)/worldsim collect --env WorldSim/Occlusion-v0 --episodes 1500 --steps 1 --policy scripted --out $(FIRST)/occlusion --workers 2
	$(BIN)/worldsim collect --env WorldSim/TwoAgents-v0 --episodes 1500 --steps 1 --policy random --out $(FIRST)/twoagents --workers 2
	$(BIN)/worldsim collect --env WorldSim/PushBox-v0 --episodes 1200 --steps 60 --policy scripted --seed 10000000 --out $(MORE)/pushbox --workers 2
	$(BIN)/worldsim collect --env WorldSim/Playground-v0 --episodes 1200 --steps 60 --policy random --seed 10000000 --out $(MORE)/playground --workers 2
	$(BIN)/worldsim collect --env WorldSim/Occlusion-v0 --episodes 400 --steps 60 --policy scripted --seed 10000000 --out $(MORE)/occlusion --workers 2
	$(BIN)/worldsim collect --env WorldSim/TwoAgents-v0 --episodes 400 --steps 60 --policy random --seed 10000000 --out $(MORE)/twoagents --workers 2

# Every recorded figure of the shipped checkpoint, measured in one run: the checks against MuJoCo
# on held-out seeds (next frame, PushBox and Occlusion open loop, 600 Playground steps), frames from
# text, speed and the shipped Reach policy in MuJoCo. Full reports go to outputs/results/, the one summary
# to benchmarks/results.json.
# About 45 minutes on an idle 2-core CPU.
RESULTS := outputs/results
results: $(STAMP)
	$(BIN)/python benchmarks/results.py --out $(RESULTS) --json benchmarks/results.json

# The Reach rung of the RL ladder: collect Reach episodes (the B real steps), fine-tune the shipped
# model on them, then PPO in the dream (imagined episodes of 16 steps from recorded steps, paid by
# Reach's own rule read off the imagined frames) against PPO in MuJoCo on the same B steps, PPO in MuJoCo
# with 150k real steps (the reference curve) and a random policy, all with the keypoint encoder
# (`--extractor keypoints`), and the model's reward and termination heads checked against MuJoCo; then
# frame heads (trained alone on the same episodes) and DIAMOND's loop on them (collect with the dream
# policy, fine-tune, dream again). All are scored in MuJoCo and their figures join benchmarks/results.json.
# Hours on a 2-core CPU; every stage resumes where it stopped.
REACH := data/reach
DREAM_TO_REAL := $(BIN)/python benchmarks/dream_to_real.py --task reach --checkpoint runs/reach_wm/model \
	--dataset $(REACH)/scripted $(REACH)/random --horizon 16 --dream-steps 100000 --eval-every 25000 \
	--num-envs 32 --dream-n-steps 64 --seeds 0 1 2 --dream-seeds 0 --reward frames --extractor keypoints \
	--rows random dream mujoco_B mujoco_ref --ref-steps 150000 --out runs/dream_to_real_keypoints \
	--json $(RESULTS)/dream_to_real.json
reach-stores: $(STAMP)
	$(BIN)/worldsim collect --env WorldSim/Reach-v0 --episodes 400 --steps 30 --policy scripted --out $(REACH)/scripted
	$(BIN)/worldsim collect --env WorldSim/Reach-v0 --episodes 400 --steps 30 --policy random --seed 100000 \
		--out $(REACH)/random

runs/reach_wm/model: | reach-stores
	$(BIN)/worldsim finetune --checkpoint worldsim/checkpoints/default --data $(REACH)/scripted \
		$(REACH)/random $(DATA)/pushbox $(DATA)/playground --steps 800 --lr 1e-4 --ema 0.998 \
		--flow.done-weight 1.0 --out runs/reach_wm --resume --check-episodes 0

dream-to-real: runs/reach_wm/model
	$(DREAM_TO_REAL)
	$(BIN)/worldsim frame-heads --checkpoint runs/reach_wm/model --data $(REACH)/scripted $(REACH)/random \
		--steps 3000 --out runs/reach_fh --resume --potential --separable
	$(BIN)/python -m worldsim.agents.dream_loop --checkpoint runs/reach_fh/model --dataset $(REACH)/scripted \
		$(REACH)/random --rounds 3 --dream-steps 40000 --out runs/dream_loop --json $(RESULTS)/dream_loop.json
	$(BIN)/python benchmarks/results.py --summarize-only --out $(RESULTS) --json benchmarks/results.json

# PPO in the dream of runs/reach_wm as the commands in benchmarks/README.md run it:
# `.venv/bin/python -m worldsim.agents.ppo $(DREAM_PPO) --seed S --total-timesteps N --out DIR`.
DREAM_PPO := --env-id WorldSim/Reach-Learned-v0 --eval-env-id WorldSim/Reach-v0 --checkpoint runs/reach_wm/model \
	--num-envs 32 --n-steps 64 --n-epochs 10 --learning-rate 3e-4 --dataset $(REACH)/scripted $(REACH)/random \
	--burn-in 4 --horizon 16 --reward frames --eval-every 25000 --eval-episodes 30 --eval-seed 10000 \
	--device cpu --no-progress-bar

# The shipped Reach policy (agents/policies/reach.safetensors): the dream row of `make dream-to-real`,
# PPO with the keypoint encoder in the dream only, 100k dreamed steps, stored at half precision in
# runs/reach_policy.safetensors and scored in MuJoCo on 300 episodes nothing trained on. Copy it over
# the shipped one only if it scores better.
reach-policy: runs/reach_wm/model
	$(DREAM_TO_REAL)
	$(BIN)/python -m worldsim.agents.policy_file runs/dream_to_real_keypoints/reach/dream/seed0/policy.safetensors \
		runs/reach_policy.safetensors --storage float16 \
		--provenance runs/dream_to_real_keypoints/reach/dream/seed0/summary.json
	for s in 50000 60000 70000; do $(BIN)/python -m worldsim.agents.evaluate --policy runs/reach_policy.safetensors \
		--env-id WorldSim/Reach-v0 --episodes 100 --seed $$s; done

# Reach's learning curves in MuJoCo: PPO from pixels, 3 seeds, scored every 50k real steps on 30 episodes
# and at the end on 300 fresh ones (100 each from seeds 50,000, 60,000 and 70,000), with SB3's NatureCNN
# (300k steps) and with the keypoint encoder (150k). About 1.5 hours.
reach-curve: reach-stores
	$(BIN)/python benchmarks/dream_to_real.py --task reach --dataset $(REACH)/scripted $(REACH)/random \
		--rows mujoco_ref --seeds 0 1 2 --ref-steps 300000 --eval-every 50000 --eval-episodes 30 --out runs/reach_curve
	$(BIN)/python benchmarks/dream_to_real.py --task reach --dataset $(REACH)/scripted $(REACH)/random \
		--rows mujoco_ref --seeds 0 1 2 --ref-steps 150000 --eval-every 25000 --eval-episodes 30 \
		--extractor keypoints --out runs/dream_to_real_keypoints
	for run in reach_curve dream_to_real_keypoints; do for seed in 0 1 2; do for s in 50000 60000 70000; do \
		$(BIN)/python -m worldsim.agents.evaluate --policy runs/$$run/reach/mujoco_ref/seed$$seed/policy.safetensors \
		--env-id WorldSim/Reach-v0 --episodes 100 --seed $$s --out runs/$$run/eval_seed$${seed}_$$s.json; \
		done; done; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
