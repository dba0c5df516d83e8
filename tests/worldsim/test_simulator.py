"""The KV-cached simulator: equivalence with recompute, bounded memory, resets, input errors."""

import numpy as np
import pytest
import torch

from worldsim.diffusion import SamplerConfig
from worldsim.simulator import Simulator, SimulatorConfig

from .helpers import random_text, tiny_world_model


def _frames(batch: int, k: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (batch, k, 32, 32, 3), dtype=np.uint8)


def _rollout(use_cache: bool, steps: int = 9, prev_noise: float = 0.0, action_guidance: float = 1.0,
             **model_kw) -> torch.Tensor:
    sim = Simulator(tiny_world_model(**model_kw), 2, SimulatorConfig(use_cache=use_cache, prev_noise=prev_noise,
                                                                     action_guidance=action_guidance), device="cpu")
    sim.reset(context_frames=_frames(2, 2), seed=3)
    actions = np.random.default_rng(1).uniform(-1, 1, (steps, 2, 2)).astype(np.float32)
    return torch.stack([sim.step(a).latents for a in actions])


def _cached_equals_recompute(**kw) -> torch.Tensor:
    """The KV-cached rollout, checked against re-running the network over the history every pass."""
    cached = _rollout(True, **kw)
    torch.testing.assert_close(cached, _rollout(False, **kw), atol=1e-4, rtol=1e-4)
    return cached


def test_change_input_rollout_equals_full_recompute_and_the_change_matters():
    model = tiny_world_model(change_input=True)
    with torch.no_grad():
        model.dit.change_embed.weight.normal_(0, 0.5)  # as after training

    def rollout(use_cache: bool, k: int = 3) -> torch.Tensor:
        sim = Simulator(model, 2, SimulatorConfig(use_cache=use_cache), device="cpu")
        sim.reset(context_frames=_frames(2, k), seed=3)
        actions = np.random.default_rng(1).uniform(-1, 1, (6, 2, 2)).astype(np.float32)
        return torch.stack([sim.step(a).latents for a in actions])

    cached = rollout(True)
    torch.testing.assert_close(cached, rollout(False), atol=1e-4, rtol=1e-4)
    for k in (1, 2):  # contexts too short to hold a change before the last frame's
        torch.testing.assert_close(rollout(True, k), rollout(False, k), atol=1e-4, rtol=1e-4)
    with torch.no_grad():
        model.dit.change_embed.weight.zero_()
    assert not torch.allclose(cached, rollout(True), atol=1e-3)


@pytest.mark.parametrize("residual_scale, spatial_rope, offset_heads",
                         [(0.0, False, 0), (0.5, False, 0), (0.5, True, 0), (0.5, False, 1), (0.5, True, 1)])
def test_kv_cached_rollout_equals_full_recompute(residual_scale, spatial_rope, offset_heads):
    # 9 steps with window 3 and depth 2: well past the window, so eviction is exercised
    kw = dict(residual_scale=residual_scale, spatial_rope=spatial_rope, offset_heads=offset_heads)
    torch.testing.assert_close(_rollout(True, **kw), _rollout(False, **kw), atol=1e-4, rtol=1e-4)


def test_noised_previous_frame_rollout_equals_full_recompute_and_changes_the_rollout():
    noised = _cached_equals_recompute(residual_scale=0.5, prev_noise=0.2)
    assert not torch.allclose(noised, _rollout(True, residual_scale=0.5))
    with pytest.raises(ValueError, match="prev_noise must be in"):
        SimulatorConfig(prev_noise=1.5)


def test_first_frame_from_text_has_its_own_number_of_moves():
    def first(**cfg) -> torch.Tensor:
        sim = Simulator(tiny_world_model(), 2, SimulatorConfig(**cfg), device="cpu")
        sim.generator.manual_seed(0)
        return sim._generate_first(random_text(2))
    base = first(first_frame_steps=8)
    torch.testing.assert_close(first(first_frame_steps=8, sampler=SamplerConfig(steps=1)), base)  # next-frame moves
    assert not torch.allclose(first(first_frame_steps=1), base)
    with pytest.raises(ValueError, match="first_frame_steps"):
        SimulatorConfig(first_frame_steps=0)


def test_seeded_rollout_is_deterministic():
    torch.testing.assert_close(_rollout(True, 4), _rollout(True, 4), rtol=0, atol=0)


def test_cache_memory_is_flat_after_the_window_fills():
    sim = Simulator(tiny_world_model(), 1, device="cpu")
    sim.reset(context_frames=_frames(1, 1), seed=0)
    sizes = [sim.step(np.zeros((1, 2), np.float32)) and sim.cache_nbytes() for _ in range(12)]
    assert sizes[3] == sizes[-1] > 0
    assert sim.cache.steps == sim.window - 1


@pytest.mark.parametrize("memory", [0, 3])
def test_partial_reset_leaves_other_rows_untouched(memory):
    sim = Simulator(tiny_world_model(memory=memory), 2, device="cpu")
    sim.reset(context_frames=_frames(2, 2), seed=0)
    for _ in range(3 + memory):
        sim.step(np.zeros((2, 2), np.float32))
    kept = sim.cache.keys + sim.cache.mem_keys if memory else sim.cache.keys
    keys_before = [k[0].clone() for k in kept]
    prev_before = sim.prev[0].clone()
    out = sim.reset(context_frames=_frames(1, 1, seed=5), rows=[1])
    assert out.frames.shape == (1, 32, 32, 3)
    for before, after in zip(keys_before, sim.cache.keys + sim.cache.mem_keys if memory else sim.cache.keys):
        torch.testing.assert_close(after[0], before)
    torch.testing.assert_close(sim.prev[0], prev_before)
    assert sim.cache.valid[1].sum() == 1 and sim.cache.valid[0].all()
    assert sim.step(np.zeros((2, 2), np.float32)).frames.shape == (2, 32, 32, 3)


def test_step_before_reset_and_bad_actions_raise():
    sim = Simulator(tiny_world_model(), 2, device="cpu")
    with pytest.raises(RuntimeError, match="reset"):
        sim.step(np.zeros((2, 2), np.float32))
    sim.reset(context_frames=_frames(2, 1))
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        sim.step(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        sim.step(np.full((2, 2), np.nan, np.float32))
    with pytest.raises(TypeError, match="floating"):
        sim.step(np.zeros((2, 2), np.int64))
    with pytest.raises(ValueError, match="uint8"):
        sim.reset(context_frames=_frames(2, 1).astype(np.float32))


def test_frame_sink_rollout_equals_full_recompute_and_the_sink_matters():
    sunk = _cached_equals_recompute(steps=12, residual_scale=0.5, sink=True)
    # the same weights without the sink layers roll out differently: the first frame is still attended to
    assert not torch.allclose(sunk, _rollout(True, steps=12, residual_scale=0.5))


@pytest.mark.parametrize("spatial_rope, offset_heads", [(False, 0), (True, 0), (False, 1)])
def test_pooled_memory_rollout_equals_full_recompute_and_the_memory_matters(spatial_rope, offset_heads):
    kw = dict(steps=12, residual_scale=0.5, spatial_rope=spatial_rope, offset_heads=offset_heads)
    recalled = _cached_equals_recompute(memory=3, **kw)  # window 3: each step also recalls 3 steps pooled
    assert not torch.allclose(recalled, _rollout(True, **kw))  # the same weights without the memory


def test_making_a_simulator_leaves_the_thread_count_alone():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        Simulator(tiny_world_model(), 1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_a_checkpoint_records_its_rollout_settings_and_a_caller_overrides_them():
    model = tiny_world_model()
    assert Simulator(model, 1, device="cpu").cfg.prev_noise == 0.0
    assert Simulator(model, 1, device="cpu").cfg.latent_grid == 0.0
    model.meta = {"rollout": {"prev_noise": 0.15, "latent_grid": 0.2}}
    assert Simulator(model, 1, device="cpu").cfg.prev_noise == 0.15
    assert Simulator(model, 1, device="cpu").cfg.latent_grid == 0.2
    assert Simulator(model, 1, SimulatorConfig(prev_noise=0.0), device="cpu").cfg.prev_noise == 0.0
    assert Simulator(model, 1, SimulatorConfig(latent_grid=0.0), device="cpu").cfg.latent_grid == 0.0
    model.meta = {"rollout": {"prev_noise": "high"}}
    with pytest.raises(ValueError, match="meta\\['rollout'\\]"):
        Simulator(model, 1, device="cpu")


def test_half_precision_rollouts_follow_full_precision_with_half_the_cache():
    def run(dtype: str) -> tuple[torch.Tensor, int]:
        sim = Simulator(tiny_world_model(), 2, SimulatorConfig(dtype=dtype), device="cpu")
        sim.reset(context_frames=_frames(2, 2), seed=3)
        out = [sim.step(np.zeros((2, 2), np.float32)).latents.float() for _ in range(3)]
        return torch.stack(out), sim.cache_nbytes()

    full, full_bytes = run("float32")
    half, half_bytes = run("bfloat16")
    assert half_bytes * 2 == full_bytes
    assert (half - full).abs().mean() < 0.05 * full.abs().mean()
    with pytest.raises(ValueError, match="CUDA only"):
        Simulator(tiny_world_model(), 1, SimulatorConfig(dtype="float16"), device="cpu")
    with pytest.raises(ValueError, match="dtype must be one of"):
        SimulatorConfig(dtype="int8")


def test_int8_rollouts_follow_float_ones_and_leave_the_callers_model_in_float():
    model = tiny_world_model()
    before = {k: v.clone() for k, v in model.dit.state_dict().items()}

    def run(quantize: str) -> torch.Tensor:
        sim = Simulator(model, 2, SimulatorConfig(quantize=quantize), device="cpu")
        sim.reset(context_frames=_frames(2, 2), seed=3)
        return torch.stack([sim.step(np.zeros((2, 2), np.float32)).latents for _ in range(3)])

    full, int8 = run("none"), run("int8")
    assert not torch.equal(full, int8)  # the int8 passes really ran
    assert (int8 - full).abs().mean() < 0.05 * full.abs().mean()
    assert all(type(m) is torch.nn.Linear for m in model.dit.modules() if "Linear" in type(m).__name__)
    assert all(torch.equal(v, before[k]) for k, v in model.dit.state_dict().items())
    with pytest.raises(ValueError, match="CPU only"):
        Simulator(model, 1, SimulatorConfig(quantize="int8"), device="meta")
    with pytest.raises(ValueError, match="quantize must be one of"):
        SimulatorConfig(quantize="int4")
    with pytest.raises(ValueError, match="choose one of the two"):
        SimulatorConfig(quantize="int8", dtype="bfloat16")
    assert Simulator(model, 1, SimulatorConfig(quantize="int8")).device.type == "cpu"  # also where CUDA is


def test_compiled_rollouts_equal_plain_ones_and_leave_the_callers_model_alone():
    model = tiny_world_model()

    def run(compiled: bool) -> torch.Tensor:
        sim = Simulator(model, 2, SimulatorConfig(compile=compiled), device="cpu")
        sim.reset(context_frames=_frames(2, 2), seed=3)
        actions = np.random.default_rng(1).uniform(-1, 1, (4, 2, 2)).astype(np.float32)
        return torch.stack([sim.step(a).latents for a in actions])

    torch.testing.assert_close(run(True), run(False), atol=1e-4, rtol=1e-4)
    assert type(model.dit).__name__ == "DiT" and "forward" not in vars(model.dit)  # not wrapped in place


def test_gpu_throughput_script_runs_its_cpu_dry_run(tiny_checkpoint, tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[2] / "benchmarks" / "gpu_throughput.py"
    subprocess.run([sys.executable, str(script), "--dry-run", "--checkpoint", tiny_checkpoint, "--dtypes", "float32",
                    "bfloat16", "--json", str(tmp_path / "gpu.json")], check=True, capture_output=True)
    report = json.loads((tmp_path / "gpu.json").read_text())
    rows = {(r["dtype"], r["batch"]) for r in report["rows"]}
    assert rows == {(d, b) for d in ("float32", "bfloat16") for b in (1, 2)}
    assert all(r["env_steps_per_s"] > 0 for r in report["rows"]) and report["mujoco"]["steps_per_s_all_cores"] > 0


def test_latent_grid_puts_every_finished_latent_on_the_grid():
    sim = Simulator(tiny_world_model(), 2, SimulatorConfig(latent_grid=0.25), device="cpu")
    first = sim.reset(context_frames=_frames(2, 2), seed=3).latents
    steps = [sim.step(np.zeros((2, 2), np.float32)).latents for _ in range(3)]
    for z in [first, *steps]:
        torch.testing.assert_close(z / 0.25, torch.round(z / 0.25), rtol=0, atol=1e-5)
    assert not torch.allclose(steps[-1] / 0.1, torch.round(steps[-1] / 0.1))  # a finer grid is not implied
    with pytest.raises(ValueError, match="latent_grid"):
        SimulatorConfig(latent_grid=-0.1)


def test_latent_hold_keeps_cells_that_barely_change_and_lets_the_others_move():
    def run(hold: float) -> list[torch.Tensor]:
        sim = Simulator(tiny_world_model(), 2, SimulatorConfig(latent_hold=hold), device="cpu")
        out = [sim.reset(context_frames=_frames(2, 2), seed=3).latents]
        return out + [sim.step(np.zeros((2, 2), np.float32)).latents for _ in range(3)]

    free = run(0.0)
    tau = float((free[1] - free[0]).abs().amax(dim=1).median())  # half the cells change by more at step 1
    held = run(tau)
    torch.testing.assert_close(held[0], free[0])  # the context is left as encoded
    for before, after in zip(held, held[1:]):
        change = (after - before).abs().amax(dim=1)  # (B, h, w): a cell's largest change
        assert ((change == 0) | (change > tau)).all()
    first_change = (held[1] - held[0]).abs().amax(dim=1)
    assert (first_change == 0).any() and (first_change > tau).any()
    assert Simulator(tiny_world_model(), 1, device="cpu").cfg.latent_hold == 0.0
    with pytest.raises(ValueError, match="latent_hold"):
        SimulatorConfig(latent_hold=-0.1)


def test_a_narrower_hold_for_what_moved_lets_moving_cells_and_their_neighbours_change():
    # A hold no change reaches keeps every still cell; with a hold of 0 for what moved, the cells
    # counted as moving change freely and the others stay put.
    cfg = SimulatorConfig(latent_hold=1e6, latent_hold_moving=0.0, latent_hold_memory=2)
    sim = Simulator(tiny_world_model(), 2, cfg, device="cpu")
    last = sim.reset(context_frames=_frames(2, 1), seed=3).latents
    assert (sim.quiet == 2).all()  # one frame: nothing has moved yet
    sim.quiet[:, :, :, :2, :2] = 0  # the top-left corner moved just now
    moving = sim.quiet[:, 0, 0] < 2
    step = sim.step(np.zeros((2, 2), np.float32)).latents
    changed = (step - last).abs().amax(dim=1) > 0  # (B, h, w)
    assert not changed[~moving].any() and changed[moving].all()
    near = torch.zeros_like(moving)
    near[:, :3, :3] = True  # what moved and its neighbours
    assert ((sim.quiet[:, 0, 0] == 0) == near).all()  # the step's moves counted afresh
    # from then on only the cells counted as moving (what moved lately and its neighbours) may change
    for _ in range(3):
        free = sim.quiet[:, 0, 0] < 2
        before, step = step, sim.step(np.zeros((2, 2), np.float32)).latents
        assert not ((step - before).abs().amax(dim=1) > 0)[~free].any()
    # one level for every cell (the default) keeps no such state and rolls out as the plain hold
    one_level = Simulator(tiny_world_model(), 1, SimulatorConfig(latent_hold=0.3), device="cpu")
    one_level.reset(context_frames=_frames(1, 2), seed=3)
    assert one_level.cfg.latent_hold_moving == 0.3 and one_level.quiet is None
    with pytest.raises(ValueError, match="at most latent_hold"):
        Simulator(tiny_world_model(), 1, SimulatorConfig(latent_hold=0.2, latent_hold_moving=0.3), device="cpu")
    with pytest.raises(ValueError, match="latent_hold_memory"):
        SimulatorConfig(latent_hold_memory=0)


def test_the_context_frames_say_which_cells_moved_before_the_first_step():
    frames = _frames(2, 1).repeat(3, axis=1)
    frames[:, 2, :8, :8] = 255 - frames[:, 2, :8, :8]  # the top-left corner changes between the last two
    model = tiny_world_model()
    with torch.no_grad():
        z = model.autoencoder.encode(torch.as_tensor(frames))
    change = (z[:, 2] - z[:, 1]).abs().amax(dim=1)  # (B, h, w)
    level = float(change.median())
    sim = Simulator(model, 2, SimulatorConfig(latent_hold=1e6, latent_hold_moving=level, latent_hold_memory=2),
                    device="cpu")
    sim.reset(context_frames=frames, seed=3)
    moved = (change > level).float()[:, None]
    near = torch.nn.functional.max_pool2d(moved, 3, stride=1, padding=1)[:, 0] > 0
    assert ((sim.quiet[:, 0, 0] == 0) == near).all() and (sim.quiet[:, 0, 0][~near] == 2).all()
    assert near.any() and not near.all()


def test_resetting_some_rows_restarts_only_their_record_of_what_moved():
    cfg = SimulatorConfig(latent_hold=1e6, latent_hold_moving=0.0, latent_hold_memory=3)
    sim = Simulator(tiny_world_model(), 2, cfg, device="cpu")
    sim.reset(context_frames=_frames(2, 2), seed=3)  # random frames: every cell moved
    assert (sim.quiet == 0).all()
    sim.reset(context_frames=_frames(1, 1, seed=5), rows=[1])  # one frame: nothing moved yet
    assert (sim.quiet[0] == 0).all() and (sim.quiet[1] == 3).all()


def test_action_guidance_rollout_equals_full_recompute_and_needs_a_model_trained_for_it():
    guided = _cached_equals_recompute(residual_scale=0.5, null_action=True, action_guidance=2.0)
    assert not torch.allclose(guided, _rollout(True, residual_scale=0.5, null_action=True))
    with pytest.raises(ValueError, match="action dropout"):
        Simulator(tiny_world_model(), 1, SimulatorConfig(action_guidance=2.0), device="cpu")
    with pytest.raises(ValueError, match="action_guidance must be"):
        SimulatorConfig(action_guidance=float("nan"))


def test_a_first_frame_from_text_follows_the_layout_of_a_model_that_reads_one():
    model = tiny_world_model(layout_dim=6, text_dim=384)  # the real text encoder reads the prompt
    with torch.no_grad():
        for block in model.dit.blocks:
            block.layout.proj.weight.normal_(0, 0.1)
    sim = Simulator(model, 2, SimulatorConfig(first_frame_steps=2), device="cpu")
    layout = np.random.default_rng(0).normal(size=(2, 3, 6)).astype(np.float32)
    a = sim.reset(prompt="a red ball", seed=0, layout=layout).latents
    assert not torch.allclose(a, sim.reset(prompt="a red ball", seed=0, layout=-layout).latents)
    torch.testing.assert_close(a, sim.reset(prompt="a red ball", seed=0, layout=layout).latents)
    sim.step(np.zeros((2, 2), np.float32))  # later steps run without it
    with pytest.raises(ValueError, match="layout must be finite"):
        sim.reset(prompt="a red ball", layout=layout[:, :, :5])
    with pytest.raises(ValueError, match="--layout"):
        Simulator(tiny_world_model(text_dim=384), 1, device="cpu").reset(prompt="a red ball", layout=layout[:1])


def test_reset_keeps_the_best_scoring_of_several_first_frames_from_text():
    model = tiny_world_model(text_dim=384)  # the real text encoder reads the prompt
    prompts = ["a red ball", "a blue box"]
    brightness = lambda frames: frames.reshape(*frames.shape[:-3], -1).mean(-1)  # (N, c, H, W, 3) -> (N, c)
    cfg = SimulatorConfig(first_frame_steps=2, first_frame_candidates=4)
    best = Simulator(model, 2, cfg, device="cpu").reset(prompt=prompts, seed=0, first_frame_score=brightness)
    # the same 4 draws per prompt, made as 8 rollouts
    drawn = Simulator(model, 8, SimulatorConfig(first_frame_steps=2), device="cpu").reset(
        prompt=[p for p in prompts for _ in range(4)], seed=0).frames.reshape(2, 4, 32, 32, 3)
    scores = brightness(drawn)
    assert (scores.max(1) > scores.min(1)).all()  # the choice matters
    np.testing.assert_array_equal(best.frames, drawn[np.arange(2), scores.argmax(1)])
    sim = Simulator(model, 2, cfg, device="cpu")
    sim.reset(prompt=prompts, seed=0, first_frame_score=brightness)
    assert sim.step(np.zeros((2, 2), np.float32)).frames.shape == (2, 32, 32, 3)  # rolls on from the kept frames
    plain = Simulator(model, 2, SimulatorConfig(first_frame_steps=2), device="cpu").reset(prompt=prompts, seed=0)
    np.testing.assert_array_equal(sim.reset(prompt=prompts, seed=0).frames, plain.frames)  # no score: one draw
    for bad in (lambda f: brightness(f)[:, :2], lambda f: brightness(f) * np.nan):
        with pytest.raises(ValueError, match="first_frame_score must return finite scores"):
            sim.reset(prompt=prompts, seed=0, first_frame_score=bad)
    with pytest.raises(ValueError, match="first_frame_candidates"):
        SimulatorConfig(first_frame_candidates=0)
