"""Speed and memory measurements of the engine, each taken side by side in one run.

Absolute times on shared machines are noisy; compare the ratios measured in the same run. Nothing
here is a pass/fail test: ``worldsim bench --json`` records the figures with the machine named.
"""

from __future__ import annotations

import copy
import importlib
import itertools
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import gymnasium as gym
import numpy as np
import torch
import tyro

from .collect import CollectConfig, collect
from .diffusion import Batch, FlowConfig, SamplerConfig, flow_loss
from .model import TextCond
from .report import machine, write_json
from .simulator import Simulator, SimulatorConfig, recorded_sampling_steps
from .store import EpisodeStore
from .trainer import cpu_has_bfloat16
from .worldmodel import WorldModel, resolve_checkpoint


def _timed(fn: Callable[[], None], repeats: int, warmup: int = 2) -> float:
    """Seconds per call of ``fn`` (best of three rounds of ``repeats`` calls, after ``warmup`` calls)."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - t0) / repeats)
    return best


def _cpu_seconds(fn: Callable[[], None], repeats: int) -> float:
    """Process CPU seconds per call of ``fn`` (all threads together), over ``repeats`` calls."""
    t0 = time.process_time()
    for _ in range(repeats):
        fn()
    return (time.process_time() - t0) / repeats


SIM_MINUTE = 600
"""Env steps in one simulated minute (10 steps a second)."""


def _context(sim: Simulator, k: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (sim.batch_size, k, *sim.frame_shape), dtype=np.uint8)


VARIANTS: dict[str, dict[str, str]] = {
    "float32": {},
    "int8": {"quantize": "int8"},
    "bfloat16": {"dtype": "bfloat16"},
    "compiled": {"compile": True},
    "compiled_bfloat16": {"compile": True, "dtype": "bfloat16"},
}
"""Ways to run the network passes, as :class:`SimulatorConfig` settings."""


def simulator_throughput(model: WorldModel, batch_sizes=(1, 16, 64), sampling_steps=(1, 2, 4),
                         steps: int = 10, fill: int | None = None, variants=("float32",)) -> list[dict]:
    """Env steps per second of the KV-cached simulator by batch size, denoising steps and variant
    (:data:`VARIANTS`: float32, int8 linear layers, bfloat16 passes).

    The cache is filled to the window first (``fill`` steps), so the figure is the steady state of
    a long rollout.
    """
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise ValueError(f"unknown variants {unknown}; known: {sorted(VARIANTS)}")
    rows = []
    for variant, b, s in itertools.product(variants, batch_sizes, sampling_steps):
        sim = Simulator(model, b, SimulatorConfig(sampler=SamplerConfig(steps=s), **VARIANTS[variant]))
        sim.reset(context_frames=_context(sim), seed=0)
        actions = np.zeros((b, sim.action_dim), np.float32)
        for _ in range(fill if fill is not None else sim.window):
            sim.step(actions)
        step = lambda sim=sim, actions=actions: sim.step(actions)
        sec = _timed(step, steps, warmup=1)
        cpu = _cpu_seconds(step, steps)
        rows.append({"variant": variant, "batch": b, "sampling_steps": s, "step_ms": round(1000 * sec, 2),
                     "rollout_steps_per_s": round(1 / sec, 2), "env_steps_per_s": round(b / sec, 1),
                     "kv_cache_bytes_per_env": sim.cache_nbytes() // b,
                     "cpu_s_per_sim_minute": round(cpu * SIM_MINUTE / b, 2)})
    return rows


def cache_vs_recompute(model: WorldModel, window: int = 32, batch: int = 1, sampling_steps: int = 4,
                       steps: int = 3) -> dict:
    """Step time with the KV cache against re-running the network over the context, at window W.

    Two recompute baselines: over the last W frames (what a cache-less sampler would do), and over
    the whole receptive field (exactly equal to the cached result, and what the equivalence test uses).
    """
    cfg = SimulatorConfig(sampler=SamplerConfig(steps=sampling_steps), window=window)
    out = {"window": window, "batch": batch, "sampling_steps": sampling_steps}
    for name, use_cache, rf in (("cache", True, None), ("recompute_window", False, window),
                                ("recompute_exact", False, None)):
        sim = Simulator(model, batch, replace(cfg, use_cache=use_cache, recompute_steps=rf))
        sim.reset(context_frames=_context(sim, k=window), seed=0)
        actions = np.zeros((batch, sim.action_dim), np.float32)
        out[f"{name}_step_ms"] = round(1000 * _timed(lambda sim=sim, a=actions: sim.step(a), steps, warmup=1), 2)
    out["speedup_vs_recompute_window"] = round(out["recompute_window_step_ms"] / out["cache_step_ms"], 2)
    out["speedup_vs_recompute_exact"] = round(out["recompute_exact_step_ms"] / out["cache_step_ms"], 2)
    return out


def longer_context(model: WorldModel, memory: int = 12, batch_sizes: Sequence[int] = (1, 16), sampling_steps: int = 2,
                   steps: int = 5) -> list[dict]:
    """What remembering more steps costs a rollout step, with the cache full: the checkpoint as it is
    (window W), with a pooled memory of ``memory`` steps added (:attr:`~worldsim.model.DiTConfig.memory`),
    and with its window widened to W + ``memory`` steps. Timed on copies of the checkpoint's network
    (the weights do not change the time); ``vs_as_is`` is each step's time over the checkpoint's own."""
    import copy

    W = model.dit.cfg.window
    shapes = {"as_is": {}, f"memory_{memory}": {"memory": memory}, f"window_{W + memory}": {"window": W + memory}}
    rows: list[dict] = []
    for b in batch_sizes:
        base = None
        for name, change in shapes.items():
            m = copy.deepcopy(model)
            m.dit.set_memory(change.get("memory", m.dit.cfg.memory))
            m.dit.set_window(change.get("window", W))
            sim = Simulator(m, b, SimulatorConfig(sampler=SamplerConfig(steps=sampling_steps)))
            sim.reset(context_frames=_context(sim, k=W + memory + 1), seed=0)
            actions = np.zeros((b, sim.action_dim), np.float32)
            ms = 1000 * _timed(lambda sim=sim, a=actions: sim.step(a), steps, warmup=1)
            base = base or ms
            rows.append({"context": name, "batch": b, "sampling_steps": sampling_steps, "step_ms": round(ms, 2),
                         "vs_as_is": round(ms / base, 3), "kv_cache_bytes_per_env": sim.cache_nbytes() // b})
    return rows


def memory_over_rollout(model: WorldModel, steps: int = 600, batch: int = 1, every: int = 50) -> dict:
    """KV-cache bytes and process RSS along a long rollout: flat once the window has filled."""
    import resource

    sim = Simulator(model, batch, SimulatorConfig(sampler=SamplerConfig(steps=1)))
    sim.reset(context_frames=_context(sim), seed=0)
    actions = np.zeros((batch, sim.action_dim), np.float32)
    trace = []
    for t in range(1, steps + 1):
        sim.step(actions)
        if t % every == 0 or t == sim.window:
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            trace.append({"step": t, "kv_cache_bytes": sim.cache_nbytes(), "max_rss_mb": round(rss_mb, 1)})
    return {"steps": steps, "batch": batch, "window": sim.window, "trace": trace,
            "flat_after_window": len({row["kv_cache_bytes"] for row in trace if row["step"] >= sim.window}) == 1}


def _rss_mb() -> float:
    """This process's resident memory now (Linux), else its peak so far."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_over_resets(checkpoint: str, resets: int = 10_000, every: int = 500,
                       env_id: str = "WorldSim/Playground-Learned-v0") -> dict:
    """Process RSS along ``resets`` resets of a learned env, each to a new scene (so a new caption
    for the text encoder): flat when nothing per reset is kept."""
    import gymnasium as gym

    from worldsim import envs  # noqa: F401

    env = gym.make(env_id, checkpoint=checkpoint)
    trace, t0 = [], time.perf_counter()
    for i in range(1, resets + 1):
        env.reset(seed=i)
        if i % every == 0 or i == 1:
            trace.append({"resets": i, "rss_mb": round(_rss_mb(), 1)})
    env.close()
    start = next((row for row in trace if row["resets"] >= resets // 10), trace[0])
    return {"env_id": env_id, "resets": resets, "seconds": round(time.perf_counter() - t0, 1), "trace": trace,
            "rss_growth_mb_after_first_tenth": round(trace[-1]["rss_mb"] - start["rss_mb"], 1)}


def training_throughput(model: WorldModel, batch_size: int = 32, clip_steps: int = 4, steps: int = 3,
                        precision: Literal["float32", "bfloat16"] = "float32") -> dict:
    """Frames per second through a DiT training step (forward, backward, AdamW) on random latents,
    with the forward pass in ``precision`` (bfloat16: under autocast, as ``--precision bfloat16`` trains)."""
    dit = copy.deepcopy(model.dit).train()  # the caller's model keeps its weights
    c = dit.cfg
    shape = (batch_size, clip_steps, c.latent_channels, c.latent_size, c.latent_size)
    lat = torch.randn(shape)
    text = TextCond(torch.randn(batch_size, 16, c.text_dim), torch.ones(batch_size, 16, dtype=torch.bool),
                    torch.randn(batch_size, c.text_dim))
    batch = Batch(lat, torch.randn(shape), torch.randn(batch_size, clip_steps, c.action_dim),
                  torch.zeros(batch_size, clip_steps, dtype=torch.bool), torch.zeros(batch_size, clip_steps),
                  torch.zeros(batch_size, clip_steps), text, sink=torch.randn(batch_size, 1, *shape[2:]))
    opt = torch.optim.AdamW(dit.parameters(), lr=1e-5)

    device = next(dit.parameters()).device.type

    def step() -> None:
        with torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            loss = flow_loss(dit, batch, FlowConfig()).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    sec = _timed(step, steps, warmup=1)
    return {"batch_size": batch_size, "clip_steps": clip_steps, "precision": precision, "step_s": round(sec, 3),
            "frames_per_s": round(batch_size * clip_steps / sec, 1)}


def measure_gt_throughput(
    env_id: str = "WorldSim/PushBox-v0", steps: int = 1000, *, seed: int = 0
) -> dict[str, Any]:
    """Time ``steps`` env steps (physics + render) of a ground-truth scene in this process.

    Args:
        env_id: A registered ``WorldSim/<Scene>-v0`` id (any ``rgb_array`` Gymnasium env works).
        steps: Timed steps; episodes are reset (untimed, counted separately) when they end.
        seed: Seeds the first reset and the random actions.

    Returns:
        ``{"env_id", "steps", "cpu_s_per_sim_minute", "seconds", "steps_per_s", "ms_per_step", "resets",
        "reset_ms", "steps_per_s_with_resets", "machine"}``.
    """
    if env_id.startswith("WorldSim/"):
        importlib.import_module("worldsim.envs")  # registers the WorldSim ids

    if steps < 1:
        raise ValueError(f"steps={steps}; time at least one step")
    env = gym.make(env_id, render_mode="rgb_array")
    try:
        env.action_space.seed(seed)
        actions = [env.action_space.sample() for _ in range(steps)]
        env.reset(seed=seed)
        for _ in range(10):  # warm-up: first renders allocate GL buffers
            env.step(env.action_space.sample())
        env.reset(seed=seed)
        step_time, reset_time, resets, cpu0 = 0.0, 0.0, 0, time.process_time()
        for action in actions:
            t0 = time.perf_counter()
            _, _, terminated, truncated, _ = env.step(action)
            step_time += time.perf_counter() - t0
            if terminated or truncated:
                t0 = time.perf_counter()
                env.reset()
                reset_time += time.perf_counter() - t0
                resets += 1
        cpu = time.process_time() - cpu0
    finally:
        env.close()
    return {
        "env_id": env_id,
        "steps": steps,
        "cpu_s_per_sim_minute": cpu * SIM_MINUTE / steps,  # resets included
        "seconds": step_time,
        "steps_per_s": steps / step_time,
        "ms_per_step": 1e3 * step_time / steps,
        "resets": resets,
        "reset_ms": 1e3 * reset_time / resets if resets else None,
        "steps_per_s_with_resets": steps / (step_time + reset_time),
        "machine": machine(),
    }


def measure_collect_throughput(
    env_id: str = "InvertedPendulum-v5",
    *,
    episodes: int = 16,
    steps: int = 50,
    workers: Sequence[int] = (1, 2),
    policy: Literal["random", "scripted"] = "random",
    size: int = 64,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Collect the same episodes once per worker count and time each run.

    Args:
        env_id: Gymnasium id of an env with ``render_mode="rgb_array"``.
        episodes: Episodes per run.
        steps: Maximum steps per episode (episodes end earlier on termination).
        workers: Worker counts K to compare.
        policy: "random" or "scripted" (WorldSim scenes).
        size: Stored frame size.
        seed: Collection seed (all runs collect the same episodes).
        env_kwargs: Extra ``gymnasium.make`` arguments.

    Returns:
        {"benchmark", "env_id", "policy", "episodes", "steps", "size", "machine", "identical_across_workers"
        (every K wrote byte-identical episode files), "results": [{"workers", "episodes", "frames", "seconds",
        "episodes_per_s", "frames_per_s", "bytes_per_frame"}, ...]}.
    """
    results, hashes = [], []
    with tempfile.TemporaryDirectory(prefix="worldsim-bench-") as tmp:
        for k in workers:
            out = Path(tmp) / f"workers{k}"
            cfg = CollectConfig(
                env_id, episodes, steps, policy, str(out), workers=k, seed=seed, size=size,
                env_kwargs=dict(env_kwargs or {}), progress=False,
            )  # fmt: skip
            summary = collect(cfg)
            manifest = EpisodeStore(out).manifest
            stored = sum(e["bytes"] for e in manifest["episodes"])
            hashes.append([e["sha256"] for e in manifest["episodes"]])
            results.append(
                {
                    "workers": k,
                    "episodes": summary["collected"],
                    "frames": summary["frames_collected"],
                    "seconds": round(summary["seconds"], 3),
                    "episodes_per_s": round(summary["episodes_per_s"], 2),
                    "frames_per_s": round(summary["frames_per_s"], 1),
                    "bytes_per_frame": round(stored / max(manifest["num_frames"], 1), 1),
                }
            )
    return {
        "benchmark": "collect_throughput",
        "env_id": env_id,
        "policy": policy,
        "episodes": episodes,
        "steps": steps,
        "size": size,
        "machine": machine(),
        "identical_across_workers": all(h == hashes[0] for h in hashes),
        "results": results,
    }


def cost_per_simulated_minute(learned: list[dict], gt: dict, sampling_steps: int) -> dict[str, Any]:
    """What one simulated minute (600 env steps) costs, in wall and CPU seconds: the learned simulator
    at its smallest batch (``learned_batch_1``: batch 1 unless the sweep left it out) and at its best
    batch (at ``sampling_steps``, the fastest variant of each), beside the MuJoCo scene."""
    rows = [r for r in learned if r["sampling_steps"] == sampling_steps]
    if not rows:
        raise ValueError(f"no learned-simulator row at {sampling_steps} sampling steps")
    smallest = min(r["batch"] for r in rows)
    one = max((r for r in rows if r["batch"] == smallest), key=lambda r: r["env_steps_per_s"])
    best = max(rows, key=lambda r: r["env_steps_per_s"])
    entry = lambda r: {"batch": r["batch"], "variant": r["variant"],
                       "wall_s": round(SIM_MINUTE / r["env_steps_per_s"], 3), "cpu_s": r["cpu_s_per_sim_minute"]}
    return {"sampling_steps": sampling_steps, "learned_batch_1": entry(one), "learned_batched": entry(best),
            "mujoco": {"wall_s": round(SIM_MINUTE / gt["steps_per_s_with_resets"], 3),
                       "cpu_s": round(gt["cpu_s_per_sim_minute"], 3)}}


@dataclass
class BenchConfig:
    """worldsim bench: speed and memory of the learned sim beside MuJoCo, measured in one run."""

    checkpoint: str | None = None
    """World-model checkpoint directory (default: the shipped one)."""
    batch_sizes: tuple[int, ...] = (1, 16, 64)
    """Simulator batch sizes."""
    sampling_steps: tuple[int, ...] = (1, 2, 4)
    """Denoising steps per frame."""
    variants: tuple[Literal["float32", "int8", "bfloat16", "compiled", "compiled_bfloat16"], ...] = (
        "float32", "int8", "bfloat16")
    """How the network passes run: float32 weights, int8 linear layers (CPU), bfloat16 autocast,
    float32 or bfloat16 through torch.compile. The first is the one compared with MuJoCo, at the
    smallest batch."""
    compiled: bool = True
    """Also time the passes through torch.compile (SimulatorConfig.compile) at the checkpoint's moves:
    float32 at the first and the largest batch, and bfloat16 at the largest where the CPU has bfloat16
    instructions; each waits minutes for the compiler first."""
    window: int = 32
    """Window W of the cache-against-recompute comparison."""
    memory: int = 12
    """Steps of pooled memory timed against the checkpoint's own context and a window that wide."""
    long_rollout: int = 600
    """Steps of the memory trace (600 = 60 s at 10 Hz)."""
    reset_memory: int = 0
    """Also trace the process memory along this many resets of a learned env to new scenes (10,000
    takes minutes); 0 skips it."""
    gt_env: Annotated[str, tyro.conf.arg(name="env", aliases=("--gt-env",))] = "WorldSim/PushBox-v0"
    """Ground-truth scene timed beside the learned sim."""
    json: str | None = None
    """Where to record the results (make bench writes outputs/bench.json)."""
    quick: bool = False
    """Fewer repetitions and configurations (for a smoke run)."""


def bench(cfg: BenchConfig) -> dict[str, Any]:
    model = WorldModel.load(resolve_checkpoint(cfg.checkpoint))
    batches = cfg.batch_sizes[:1] if cfg.quick else cfg.batch_sizes
    results: dict[str, Any] = {"checkpoint": model.checkpoint_hash, "config": asdict(cfg)}
    results["gt_env"] = measure_gt_throughput(cfg.gt_env, 100 if cfg.quick else 1000)
    results["learned_sim"] = simulator_throughput(model, batches, cfg.sampling_steps, steps=2 if cfg.quick else 10,
                                                   variants=cfg.variants[:1] if cfg.quick else cfg.variants)
    results["cache_vs_recompute"] = cache_vs_recompute(model, window=4 if cfg.quick else cfg.window,
                                                         steps=1 if cfg.quick else 3)
    results["longer_context"] = longer_context(model, cfg.memory, batches[:1] if cfg.quick else (1, max(batches)),
                                               recorded_sampling_steps(model), steps=1 if cfg.quick else 5)
    results["memory"] = memory_over_rollout(model, steps=20 if cfg.quick else cfg.long_rollout)
    if cfg.reset_memory:
        results["reset_memory"] = memory_over_resets(str(resolve_checkpoint(cfg.checkpoint)), cfg.reset_memory,
                                                       every=max(1, cfg.reset_memory // 20))
    train_kw = {"batch_size": 4 if cfg.quick else 32, "steps": 1 if cfg.quick else 3}
    results["training"] = training_throughput(model, **train_kw)
    if cpu_has_bfloat16():  # elsewhere bfloat16 is emulated, many times slower: nothing to compare
        results["training_bfloat16"] = training_throughput(model, precision="bfloat16", **train_kw)
    results["collection"] = measure_collect_throughput(cfg.gt_env, episodes=2 if cfg.quick else 16, steps=30,
                                                         workers=(1,) if cfg.quick else (1, 2), policy="scripted")
    # compared with MuJoCo at the moves the checkpoint rolls out in (else the most of the sweep)
    recorded = recorded_sampling_steps(model)
    moves = recorded if recorded in cfg.sampling_steps else max(cfg.sampling_steps)
    results["compared_at_sampling_steps"] = moves
    if cfg.compiled and not cfg.quick:
        if "compiled" not in cfg.variants:
            results["learned_sim"] += simulator_throughput(model, sorted({batches[0], max(batches)}), (moves,),
                                                           steps=10, variants=("compiled",))
        if "compiled_bfloat16" not in cfg.variants and cpu_has_bfloat16():
            results["learned_sim"] += simulator_throughput(model, (max(batches),), (moves,), steps=10,
                                                           variants=("compiled_bfloat16",))
    # the first variant at the smallest batch swept (batch 1 by default) against MuJoCo's single scene
    first = [r for r in results["learned_sim"] if r["sampling_steps"] == moves and r["variant"] == cfg.variants[0]]
    one = min(first, key=lambda r: r["batch"])
    results["learned_vs_gt"] = {"batch": one["batch"], "variant": one["variant"],
                                "ratio": round(one["env_steps_per_s"] / results["gt_env"]["steps_per_s"], 4)}
    results["cost_per_simulated_minute"] = cost_per_simulated_minute(results["learned_sim"], results["gt_env"], moves)
    if cfg.json:
        write_json(cfg.json, results)
    return results
