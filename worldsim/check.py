"""``worldsim check``: the learned simulator against MuJoCo, open loop, horizon by horizon.

    worldsim check --env WorldSim/PushBox-v0 --episodes 16 --horizon 16 --json report.json

Ground-truth episodes are recorded in MuJoCo; the simulator continues each from its first true
frames with the same actions; every horizon is scored against the truth and against repeating the
last true frame (:mod:`worldsim.evaluate`, :mod:`worldsim.metrics`). With the checks of
:mod:`worldsim.scenario`, this is the application layer: it imports ``worldsim.envs``, the MuJoCo scenes.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .collect import make_env, rollout
from .diffusion import SamplerConfig
from .evaluate import Rollouts, autoencoder_ceiling, rollout_against, score_rollouts, side_by_side, summarise
from .report import plot_horizons, write_json, write_video
from .simulator import Simulator, SimulatorConfig
from .worldmodel import WorldModel, resolve_checkpoint


def detector_colors() -> tuple[dict, tuple]:
    """The palette the object detector looks for, and the scenery colours it ignores."""
    from worldsim import envs

    return envs.render_palette(), tuple(envs.render_scenery_colors().values())


@dataclass
class CheckConfig:
    """worldsim check: the learned simulator against MuJoCo, open loop, horizon by horizon."""

    checkpoint: str | None = None
    """World-model checkpoint directory (default: the shipped one)."""
    env: str = "WorldSim/PushBox-v0"
    """Ground-truth scene to check against."""
    episodes: int = 8
    """Ground-truth episodes (seeded from seed; training data uses seeds from 0, so keep it high)."""
    context: int = 1
    """Ground-truth frames given as context."""
    horizon: int = 16
    """Steps generated open loop after the context."""
    policy: Literal["random", "scripted"] = "scripted"
    """Policy that drives the ground-truth episodes; its actions are replayed in the learned sim."""
    seed: int = 1_000_000
    """Seed of the first episode."""
    sample_seed: int | None = None
    """Seed of the sampling noise (default: seed). Varying it alone shows how much of a difference
    between two checks is sampling noise."""
    samples: int = 1
    """Rollouts of each episode, with sampling seeds sample_seed, +1, ...; the scores pool them.
    One 32-episode rollout is noisy past horizon 8 (benchmarks/README.md, "The checks")."""
    sampling_steps: int | None = None
    """Denoising moves per frame (default: the checkpoint's recorded moves, else 4)."""
    prev_noise: float | None = None
    """Noise level given to each frame before it conditions the next (SimulatorConfig.prev_noise);
    default: each checkpoint's own recorded level."""
    latent_grid: float | None = None
    """Round each finished latent to a multiple of this (SimulatorConfig.latent_grid); 0: off;
    default: each checkpoint's own recorded grid."""
    latent_hold: float | None = None
    """Keep latent cells that change by at most this (SimulatorConfig.latent_hold); 0: off;
    default: each checkpoint's own recorded level."""
    latent_hold_moving: float | None = None
    """The narrower hold for cells that moved lately (SimulatorConfig.latent_hold_moving); default: each
    checkpoint's own recorded level, else one level for every cell."""
    latent_hold_memory: int | None = None
    """Steps a cell counts as moving (SimulatorConfig.latent_hold_memory); default: the checkpoint's, else 4."""
    context_noise: float = SimulatorConfig.context_noise
    """Noise level of the finished frames committed to the cache (SimulatorConfig.context_noise)."""
    action_guidance: float = 1.0
    """Guidance towards the actions taken (SimulatorConfig.action_guidance); 1: off. Needs a model
    fine-tuned with --null-action and action dropout."""
    quantize: Literal["none", "int8"] = "none"
    """int8: the DiT's linear layers in int8 (SimulatorConfig.quantize; CPU only)."""
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    """Precision of the network passes (SimulatorConfig.dtype)."""
    compare: str | None = None
    """A second checkpoint scored in the same run, e.g. the model before fine-tuning."""
    out: str = "outputs/check"
    """Directory for plots and videos."""
    json: str | None = None
    """Write the report here (default: out/report.json)."""
    videos: int = 4
    """Episodes shown in the side-by-side video (0: no video)."""


def check(cfg: CheckConfig) -> dict[str, Any]:
    """Score a checkpoint against ground truth; writes the report, plots and video, returns the report."""
    from worldsim import envs  # noqa: F401

    steps = cfg.context - 1 + cfg.horizon
    # The registered time limit would cut long-horizon checks short; episodes still end on termination.
    env = make_env(cfg.env, {"max_episode_steps": steps})
    episodes = [rollout(env, steps=steps, seed=cfg.seed + i, policy=cfg.policy)
                for i in range(cfg.episodes)]
    env.close()
    colors, background = detector_colors()
    path = resolve_checkpoint(cfg.checkpoint)
    model = WorldModel.load(path)
    sim_cfg = SimulatorConfig(sampler=SamplerConfig(steps=cfg.sampling_steps), prev_noise=cfg.prev_noise,
                              latent_grid=cfg.latent_grid, latent_hold=cfg.latent_hold,
                              latent_hold_moving=cfg.latent_hold_moving, latent_hold_memory=cfg.latent_hold_memory,
                              context_noise=cfg.context_noise, action_guidance=cfg.action_guidance,
                              quantize=cfg.quantize, dtype=cfg.dtype)
    if cfg.samples < 1:
        raise ValueError(f"--samples must be at least 1, got {cfg.samples}")
    sample_seed = cfg.seed if cfg.sample_seed is None else cfg.sample_seed

    moves: dict[str, int] = {}  # the denoising moves each checkpoint was rolled out with

    def sample(m: WorldModel) -> Rollouts:
        sim = Simulator(m, len(episodes), sim_cfg)
        moves[m.checkpoint_hash] = sim.cfg.sampler.steps
        return Rollouts.concat([rollout_against(sim, episodes, cfg.context, cfg.horizon, seed=sample_seed + j)
                                for j in range(cfg.samples)])

    t0 = time.time()
    r = sample(model)
    elapsed = time.time() - t0
    scores = score_rollouts(r, colors, background)
    scores["autoencoder"] = autoencoder_ceiling(model.autoencoder, r, colors, background)
    report: dict[str, Any] = {
        "model": scores["model"], "baseline": scores["baseline"], "autoencoder": scores["autoencoder"],
        "config": asdict(cfg),
        "checkpoint": {"path": str(path), "hash": model.checkpoint_hash, "meta": model.meta},
        "summary": summarise(scores, cfg.horizon),
        "rollout_seconds": round(elapsed, 2),
        "sampling_steps": moves[model.checkpoint_hash],
    }
    if cfg.compare:
        other = WorldModel.load(cfg.compare)
        r2 = sample(other)
        report["compare"] = score_rollouts(r2, colors, background)["model"]
        report["summary"]["compare"] = summarise({"model": report["compare"], "baseline": {}}, cfg.horizon)["model"]
        report["compare_sampling_steps"] = moves[other.checkpoint_hash]
    out = Path(cfg.out)
    plot_horizons(report, out, title=f"{cfg.env}: model vs repeat last frame")
    k = min(cfg.videos, len(episodes))
    if k > 0:
        video = np.concatenate([side_by_side(r.gt[i], r.model[i]) for i in range(k)], axis=1)  # stack vertically
        meta = {"checkpoint": model.checkpoint_hash, "env": cfg.env, "seed": cfg.seed,
                "layout": "ground truth | generated | |diff|"}
        write_video(out / "gt_generated_diff", video, meta)
    write_json(cfg.json or out / "report.json", report)
    return report
