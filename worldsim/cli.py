"""The ``worldsim`` command line: thin verbs that parse a dataclass and call library code.

    worldsim collect --env WorldSim/PushBox-v0 --episodes 200 --steps 30 --policy scripted --out data/pushbox
    worldsim train --data data/pushbox --out runs/main
    worldsim finetune --finetune.env WorldSim/PushBox-v0 --finetune.data data/pushbox_ft --finetune.out runs/ft
    worldsim check --env WorldSim/PushBox-v0 --episodes 8 --horizon 16 --json report.json
    worldsim rollout --prompt "a red box at the top left and a blue ball in the centre"
    worldsim demo
    worldsim play --env WorldSim/PushBox-v0

This is the application layer: the only module of ``worldsim`` that imports ``envs`` (the MuJoCo
ground truth), and only inside the verbs that need it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import tyro

from .collect import CollectConfig, collect, make_env, rollout
from .data import pad_actions
from .decoder import DecoderConfig
from .diffusion import SamplerConfig
from .evaluate import (
    Rollouts,
    autoencoder_ceiling,
    rollout_against,
    score_rollouts,
    side_by_side,
    summarise,
)
from .export import ExportConfig
from .finetune import FinetuneConfig
from .report import plot_horizons, write_json, write_video
from .simulator import Simulator, SimulatorConfig
from .train import TrainConfig, train
from .worldmodel import WorldModel


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


def _checkpoint(path: str | None) -> Path:
    from .worldmodel import default_checkpoint

    return Path(path) if path else default_checkpoint()


def _detector_colors() -> tuple[dict, tuple]:
    import envs

    return envs.render_palette(), tuple(envs.render_scenery_colors().values())


# --------------------------------------------------------------------------------------------
#                                      collect / train
# --------------------------------------------------------------------------------------------


@dataclass
class CollectCommand:
    """``worldsim collect``: ground-truth episodes from a Gymnasium env into an episode store."""

    collect: Annotated[CollectConfig, tyro.conf.arg(name="")]
    json: str | None = None
    """Also write the summary printed at the end here."""


def run_collect(cmd: CollectCommand) -> None:
    if cmd.collect.env_id.startswith("WorldSim/"):
        import envs  # noqa: F401  (registers the WorldSim scenes)
    _report(collect(cmd.collect), cmd.json)


@dataclass
class TrainCommand:
    """``worldsim train``: the autoencoder, then the DiT, on episodes from ``worldsim collect``."""

    train: Annotated[TrainConfig, tyro.conf.arg(name="")] = field(default_factory=TrainConfig)
    json: str | None = None
    """Also write the summary printed at the end (the checkpoint, its hash and meta) here."""


def run_train(cmd: TrainCommand) -> None:
    from .checkpoint import checkpoint_hash

    path = train(cmd.train)
    meta = WorldModel.load(path).meta
    _report({"checkpoint": str(path), "checkpoint_hash": checkpoint_hash(path)[:16], "meta": meta}, cmd.json)


def _report(summary: dict[str, Any], path: str | None) -> None:
    """Print a verb's summary as JSON, and write it to ``path`` when one is given."""
    if path:
        write_json(path, summary)
    _print_json(summary)


# --------------------------------------------------------------------------------------------
#                                          check
# --------------------------------------------------------------------------------------------


@dataclass
class CheckConfig:
    """``worldsim check``: the learned simulator against MuJoCo, open loop, horizon by horizon."""

    checkpoint: str | None = None
    """World-model checkpoint directory (default: the shipped one)."""
    env: str = "WorldSim/PushBox-v0"
    """Ground-truth scene to check against."""
    episodes: int = 8
    """Ground-truth episodes (seeded from ``seed``; training data uses seeds from 0, so keep it high)."""
    context: int = 1
    """Ground-truth frames given as context."""
    horizon: int = 16
    """Steps generated open loop after the context."""
    policy: Literal["random", "scripted"] = "scripted"
    """Policy that drives the ground-truth episodes; its actions are replayed in the learned sim."""
    seed: int = 1_000_000
    """Seed of the first episode."""
    sample_seed: int | None = None
    """Seed of the sampling noise (default: ``seed``). Varying it alone shows how much of a difference
    between two checks is sampling noise."""
    samples: int = 1
    """Rollouts of each episode, with sampling seeds ``sample_seed``, +1, ...; the scores pool them.
    One 32-episode rollout is noisy past horizon 8 (``benchmarks/README.md``, "How noisy a check is")."""
    sampling_steps: int = 4
    """Denoising steps per frame."""
    prev_noise: float | None = None
    """Noise level given to each frame before it conditions the next (``SimulatorConfig.prev_noise``);
    default: each checkpoint's own recorded level."""
    latent_grid: float | None = None
    """Round each finished latent to a multiple of this (``SimulatorConfig.latent_grid``); 0: off;
    default: each checkpoint's own recorded grid."""
    latent_hold: float | None = None
    """Keep latent cells that change by at most this (``SimulatorConfig.latent_hold``); 0: off;
    default: each checkpoint's own recorded level."""
    compare: str | None = None
    """A second checkpoint scored in the same run, e.g. the model before fine-tuning."""
    out: str = "outputs/check"
    """Directory for plots and videos."""
    json: str | None = None
    """Write the report here (default: ``out/report.json``)."""
    videos: int = 4
    """Episodes shown in the side-by-side video (0: no video)."""


def check(cfg: CheckConfig) -> dict[str, Any]:
    """Score a checkpoint against ground truth; writes the report, plots and video, returns the report."""
    import envs  # noqa: F401

    steps = cfg.context - 1 + cfg.horizon
    # The registered time limit would cut long-horizon checks short; episodes still end on termination.
    env = make_env(cfg.env, {"max_episode_steps": steps})
    episodes = [rollout(env, steps=steps, seed=cfg.seed + i, policy=cfg.policy)
                for i in range(cfg.episodes)]
    env.close()
    colors, background = _detector_colors()
    path = _checkpoint(cfg.checkpoint)
    model = WorldModel.load(path)
    sim_cfg = SimulatorConfig(sampler=SamplerConfig(steps=cfg.sampling_steps), prev_noise=cfg.prev_noise,
                              latent_grid=cfg.latent_grid, latent_hold=cfg.latent_hold)
    if cfg.samples < 1:
        raise ValueError(f"--samples must be at least 1, got {cfg.samples}")
    sample_seed = cfg.seed if cfg.sample_seed is None else cfg.sample_seed

    def sample(m: WorldModel) -> Rollouts:
        sim = Simulator(m, len(episodes), sim_cfg)
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
    }
    if cfg.compare:
        other = WorldModel.load(cfg.compare)
        r2 = sample(other)
        report["compare"] = score_rollouts(r2, colors, background)["model"]
        report["summary"]["compare"] = summarise({"model": report["compare"], "baseline": {}}, cfg.horizon)["model"]
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


def run_check(cfg: CheckConfig) -> None:
    report = check(cfg)
    _print_json(report["summary"])
    print(f"report: {cfg.json or Path(cfg.out) / 'report.json'}; plots and video in {cfg.out}/")


# --------------------------------------------------------------------------------------------
#                                         finetune
# --------------------------------------------------------------------------------------------


@dataclass
class FinetuneCommand:
    """``worldsim finetune``: adapt a checkpoint to a scene's ground truth, checked before and after."""

    finetune: Annotated[FinetuneConfig, tyro.conf.arg(name="")] = field(default_factory=FinetuneConfig)
    """What to fine-tune on, and how (its flags are at the top level: ``--env``, ``--data``, ``--out``, ...)."""
    check_episodes: int = 32
    """Held-out episodes of the before/after check of ``--env``; 0 skips the check."""
    check_horizon: int = 16
    """Horizon of the before/after check."""
    check_samples: int = 3
    """Rollouts of each held-out episode in that check, each with its own sampling seed; the scores
    pool them."""
    json: str | None = None
    """Write the before/after report here (default: ``<out>/finetune_report.json``)."""


def run_finetune(cmd: FinetuneCommand) -> None:
    from .finetune import finetune

    cfg = cmd.finetune
    if cfg.env.startswith("WorldSim/"):
        import envs  # noqa: F401
    from .store import EpisodeStore

    empty = [d for d in cfg.data if len(EpisodeStore(d)) == 0]
    if empty and len(cfg.data) > 1:
        raise FileNotFoundError(f"{empty} hold no episodes; collect them with `worldsim collect --out DIR` first")
    if empty:
        collect(CollectConfig(env_id=cfg.env, episodes=cfg.episodes, steps=cfg.episode_steps, policy=cfg.policy,
                              out=cfg.data[0]))
    before = _checkpoint(cfg.checkpoint)
    after = finetune(cfg, before)
    if int(os.environ.get("RANK", "0")):  # under torchrun, rank 0 checks the result alone
        return
    if cmd.check_episodes < 1:
        print(f"fine-tuned checkpoint: {after}")
        return
    report = check(CheckConfig(checkpoint=str(after), compare=str(before), env=cfg.env, episodes=cmd.check_episodes,
                               horizon=cmd.check_horizon, samples=cmd.check_samples, out=str(Path(cfg.out) / "check")))
    summary = {"after": report["summary"]["model"], "before": report["summary"]["compare"],
               "repeat_last_frame": report["summary"]["baseline"]}
    write_json(cmd.json or Path(cfg.out) / "finetune_report.json", {"summary": summary, "config": asdict(cmd)})
    _print_json(summary)


def run_finetune_decoder(cfg: DecoderConfig) -> None:
    from .decoder import finetune_decoder

    report = finetune_decoder(cfg, _checkpoint(cfg.checkpoint))
    print(f"decoder: held-out PSNR {report['val_psnr_before']} -> {report['val_psnr_after']} dB; "
          f"model in {Path(cfg.out) / 'model'}")


# --------------------------------------------------------------------------------------------
#                                         rollout
# --------------------------------------------------------------------------------------------


@dataclass
class RolloutConfig:
    """``worldsim rollout``: a scenario from text, beside the same scenario simulated by MuJoCo."""

    prompt: str = "a red box at the top left and a blue ball in the centre; the white agent is at the bottom right"
    """What to simulate. Words the parser does not know give an error listing the supported ones. The
    model is given the caption of the parsed scene (``caption_of_gt_scene`` in the report), so any
    wording the parser reads reaches it in the captioner's words."""
    steps: int = 30
    """Env steps to roll out (10 per simulated second)."""
    actions: str = "scripted"
    """``random``, ``scripted`` (the scene's pushing policy) or a ``.npy``/``.json`` file of ``(T, A)`` actions."""
    seed: int = 0
    """Seed of the scene details the prompt leaves out, the actions and the sampling noise."""
    checkpoint: str | None = None
    """World-model checkpoint directory (default: the shipped one)."""
    sampling_steps: int = 4
    """Denoising steps per frame."""
    guidance: float = SimulatorConfig.guidance
    """Classifier-free guidance for the first frame."""
    first_frame_steps: int = SimulatorConfig.first_frame_steps
    """Denoising moves for the first frame (drawn from text alone)."""
    start: Literal["grounded", "generated"] = "grounded"
    """``grounded``: frame 0 is MuJoCo's render of the parsed scene and the model rolls on from it;
    ``generated``: the model draws frame 0 from the text alone."""
    frame0_seeds: int = 16
    """Also draw frame 0 from the text alone under seeds ``seed`` to ``seed + frame0_seeds - 1`` and
    report the share that shows every named object: one draw is a coin flip, this is the rate (0: skip)."""
    out: str = "outputs/rollout"
    """Directory for the video and report."""
    json: str | None = None
    """Write the report here (default: ``out/rollout.json``)."""


def _actions(cfg: RolloutConfig, env) -> Callable[[np.random.Generator], np.ndarray]:
    if cfg.actions == "scripted":
        return lambda rng: env.unwrapped.scripted_action(rng)
    if cfg.actions == "random":
        return lambda rng: rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
    path = Path(cfg.actions)
    if not path.is_file():
        raise SystemExit(f"--actions {cfg.actions!r}: not 'random', 'scripted' or an existing .npy/.json file")
    table = np.load(path, allow_pickle=False) if path.suffix == ".npy" else np.array(json.loads(path.read_text()))
    table = np.asarray(table, np.float32)
    if table.ndim != 2 or table.shape[1] != env.action_space.shape[0] or len(table) < cfg.steps:
        raise SystemExit(f"{path}: need a ({cfg.steps}, {env.action_space.shape[0]}) action table, got {table.shape}")
    it = iter(table)
    return lambda rng: next(it)


def scenario_rollout(cfg: RolloutConfig) -> dict[str, Any]:
    """Generate the prompt's scenario with the model and with MuJoCo; returns the faithfulness report."""
    import envs
    from envs.caption import SHAPE_NOUNS
    from envs.prompt import PromptError

    from . import metrics

    try:
        spec = envs.parse_prompt(cfg.prompt, seed=cfg.seed)
    except PromptError as e:
        raise SystemExit(f"cannot simulate this prompt: {e}") from e
    env = make_env(envs.scene_env_id(spec))
    obs, info = env.reset(seed=cfg.seed, options={"spec": spec})
    policy, rng = _actions(cfg, env), np.random.default_rng(cfg.seed)
    gt, acts = [obs], []
    for _ in range(cfg.steps):
        a = np.asarray(policy(rng), np.float32)
        obs, *_ = env.step(a)
        gt.append(obs)
        acts.append(a)
    env.close()
    model = WorldModel.load(_checkpoint(cfg.checkpoint))
    sim_cfg = SimulatorConfig(sampler=SamplerConfig(steps=cfg.sampling_steps), guidance=cfg.guidance,
                              first_frame_steps=cfg.first_frame_steps)
    sim = Simulator(model, 1, sim_cfg)
    # the model reads the prompt in the captioner's words (envs.canonical_prompt): the parsed scene's caption
    context = gt[0][None, None] if cfg.start == "grounded" else None
    gen = [sim.reset(context_frames=context, prompt=envs.caption(spec), seed=cfg.seed).frames[0]]
    gen += [sim.step(a[None]).frames[0] for a in pad_actions(np.stack(acts), sim.action_dim)]
    gt_frames, gen_frames = np.stack(gt), np.stack(gen)
    # One detector over the whole palette, as `check` uses: a named colour counts only where it is the
    # nearest of all, and colours the prompt does not name show up as extras.
    colors, background = _detector_colors()
    objects = metrics.compare_objects(gt_frames, gen_frames, colors, background=background)
    named = np.isin(objects.names, [o.color for o in spec.objects])  # (K,)
    shown = objects.gt.visible[0] & named  # (K,) named objects the MuJoCo frame 0 shows
    err0 = objects.error[0][shown]
    report = {
        "prompt": cfg.prompt, "caption_of_gt_scene": info.get("caption"), "seed": cfg.seed,
        "scene": envs.scene_env_id(spec), "checkpoint": model.checkpoint_hash, "start": cfg.start,
        "frame0": {"all_named_objects_present": bool(objects.gen.visible[0][shown].all()),
                   "objects_present": float(objects.gen.visible[0][named].mean()) if named.any() else None,
                   "centroid_error_px": float(np.mean(err0)) if err0.size else None,
                   "missing": [f"{o.color} {SHAPE_NOUNS[o.shape]}" for o in spec.objects
                               if objects.missing[0][objects.names.index(o.color)]],
                   "unnamed_colors": [n for n, extra in zip(objects.names, objects.extra[0]) if extra]},
        "drift": {"centroid_error_px": [round(float(v), 3) for v in np.nanmean(objects.error, axis=1)],
                  "permanence": [round(float(v), 3) for v in objects.permanence]},
    }
    if cfg.frame0_seeds:
        report["frame0_over_seeds"] = _frame0_over_seeds(model, cfg, sim_cfg)
    out = Path(cfg.out)
    write_video(out / "prompt_rollout", side_by_side(gt_frames, gen_frames),
                {"checkpoint": model.checkpoint_hash, "prompt": cfg.prompt, "seed": cfg.seed,
                 "layout": "MuJoCo ground truth | generated | |diff|"})
    write_json(cfg.json or out / "rollout.json", report)
    return report


def _frame0_over_seeds(model: WorldModel, cfg: RolloutConfig, sim_cfg: SimulatorConfig) -> dict[str, Any]:
    """Frame 0 of the prompt drawn once per seed, all in one batch: the share with every named object."""
    import envs

    from . import metrics

    specs = [envs.parse_prompt(cfg.prompt, seed=cfg.seed + i) for i in range(cfg.frame0_seeds)]
    sim = Simulator(model, len(specs), sim_cfg)
    frames = sim.reset(prompt=[envs.caption(spec) for spec in specs], seed=cfg.seed).frames
    colors, background = _detector_colors()
    found = [metrics.find_objects(frame, colors, background=background) for frame in frames]
    hits = [all(det[o.color] is not None for o in spec.objects) for det, spec in zip(found, specs)]
    return {"seeds": len(hits), "all_named_objects_present": float(np.mean(hits))}


def run_rollout(cfg: RolloutConfig) -> None:
    report = scenario_rollout(cfg)
    _print_json({k: report[k] for k in ("prompt", "scene", "frame0", "frame0_over_seeds") if k in report})
    print(f"video and report in {cfg.out}/")


# --------------------------------------------------------------------------------------------
#                                           demo
# --------------------------------------------------------------------------------------------


@dataclass
class DemoConfig:
    """``worldsim demo``: a prompted rollout, a Gymnasium loop and a short check, on the shipped model."""

    checkpoint: str | None = None
    """World-model checkpoint directory (default: the shipped one)."""
    out: str = "outputs/demo"
    """Where videos, plots and reports go."""
    steps: int = 30
    """Steps of the Gymnasium loop and the prompted rollout."""
    json: str | None = None
    """Also write the demo's summary here."""


def demo(cfg: DemoConfig) -> dict[str, Any]:
    import gymnasium as gym

    import envs  # noqa: F401

    out = Path(cfg.out)
    ckpt = str(_checkpoint(cfg.checkpoint))
    t0 = time.time()
    prompt = "a red box at the top left and a blue ball in the centre; the white agent is at the bottom right"
    roll = scenario_rollout(RolloutConfig(prompt=prompt, steps=cfg.steps, checkpoint=ckpt, out=str(out / "rollout")))
    env = gym.make("WorldSim/PushBox-Learned-v0", checkpoint=ckpt)
    obs, info = env.reset(seed=0)
    env.action_space.seed(0)  # seeded actions: the printed return is the same on every run
    t1, total = time.time(), 0.0
    for _ in range(cfg.steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        total += reward
        if terminated or truncated:
            obs, info = env.reset()
    loop_sps = cfg.steps / (time.time() - t1)
    env.close()
    rep = check(CheckConfig(checkpoint=ckpt, episodes=6, horizon=16, out=str(out / "check")))
    s = rep["summary"]
    at_h4 = [rep[k]["centroid_error_px"]["mean"][3] for k in ("model", "baseline")]
    rows = [
        ("centroid error of moving objects, h=1 (px)", s["model"]["centroid_error_px"]["h1"],
         s["baseline"]["centroid_error_px"]["h1"]),
        ("  the same, objects that have moved by h=1 (px)", s["model"]["centroid_error_moved_px"]["h1"],
         s["baseline"]["centroid_error_moved_px"]["h1"]),
        ("centroid error of moving objects, h=4 (px)", *at_h4),
        ("centroid error of moving objects, h=16 (px)", s["model"]["centroid_error_px"]["h16"],
         s["baseline"]["centroid_error_px"]["h16"]),
        ("object permanence, h=16", s["model"]["permanence"]["h16"], s["baseline"]["permanence"]["h16"]),
        ("PSNR, h=1 (dB)", s["model"]["psnr"]["h1"], s["baseline"]["psnr"]["h1"]),
        ("SSIM, h=16", s["model"]["ssim"]["h16"], s["baseline"]["ssim"]["h16"]),
    ]
    print("\nworldsim demo: the learned simulator against MuJoCo (WorldSim/PushBox-v0, 6 held-out episodes)")
    print(f"{'metric':<46}{'model':>10}{'repeat-last':>13}")
    for name, m, b in rows:
        fmt = lambda v: "n/a" if v is None else f"{v:.3f}"
        print(f"{name:<46}{fmt(m):>10}{fmt(b):>13}")
    f0, rate = roll["frame0"], roll["frame0_over_seeds"]
    error = "n/a" if f0["centroid_error_px"] is None else f"{f0['centroid_error_px']:.1f} px"
    print(f"\nprompt: {prompt!r}\n  frame 0 ({roll['start']} start), seed 0: missing "
          f"{', '.join(f0['missing']) or 'nothing'}; centroid error {error}; colours not named: "
          f"{', '.join(f0['unnamed_colors']) or 'none'}"
          f"\n  frame 0 drawn from the text alone: every named object at "
          f"{round(rate['all_named_objects_present'] * rate['seeds'])} of {rate['seeds']} seeds")
    print(f"gymnasium.make('WorldSim/PushBox-Learned-v0'): {loop_sps:.1f} steps/s at batch 1, return {total:.2f}")
    print(f"\nvideos:  {out / 'rollout' / 'prompt_rollout.mp4'}  (MuJoCo | generated | diff)")
    print(f"         {out / 'check' / 'gt_generated_diff.mp4'}")
    print(f"plots:   {out / 'check'}/*.png      reports: {out}/**/*.json")
    print(f"done in {time.time() - t0:.0f} s")
    return {"rollout": roll, "check": rep["summary"], "loop_steps_per_s": loop_sps}


def run_demo(cfg: DemoConfig) -> None:
    summary = demo(cfg)
    if cfg.json:
        write_json(cfg.json, summary)


# --------------------------------------------------------------------------------------------
#                                           bench
# --------------------------------------------------------------------------------------------


@dataclass
class BenchConfig:
    """``worldsim bench``: speed and memory of the learned sim beside MuJoCo, measured in one run."""

    checkpoint: str | None = None
    """World-model checkpoint directory (default: the shipped one)."""
    batch_sizes: tuple[int, ...] = (1, 16, 64)
    """Simulator batch sizes."""
    sampling_steps: tuple[int, ...] = (1, 2, 4)
    """Denoising steps per frame."""
    window: int = 32
    """Window W of the cache-against-recompute comparison."""
    long_rollout: int = 600
    """Steps of the memory trace (600 = 60 s at 10 Hz)."""
    reset_memory: int = 0
    """Also trace the process memory along this many resets of a learned env to new scenes (10,000
    takes minutes); 0 skips it."""
    gt_env: Annotated[str, tyro.conf.arg(name="env", aliases=("--gt-env",))] = "WorldSim/PushBox-v0"
    """Ground-truth scene timed beside the learned sim."""
    json: str | None = None
    """Where to record the results (``make bench`` writes ``benchmarks/results.json``)."""
    quick: bool = False
    """Fewer repetitions and configurations (for a smoke run)."""


def bench(cfg: BenchConfig) -> dict[str, Any]:
    from . import bench as b

    model = WorldModel.load(_checkpoint(cfg.checkpoint))
    batches = cfg.batch_sizes[:1] if cfg.quick else cfg.batch_sizes
    results: dict[str, Any] = {"checkpoint": model.checkpoint_hash, "config": asdict(cfg)}
    results["gt_env"] = b.measure_gt_throughput(cfg.gt_env, 100 if cfg.quick else 1000)
    results["learned_sim"] = b.simulator_throughput(model, batches, cfg.sampling_steps, steps=2 if cfg.quick else 10)
    results["cache_vs_recompute"] = b.cache_vs_recompute(model, window=4 if cfg.quick else cfg.window,
                                                         steps=1 if cfg.quick else 3)
    results["memory"] = b.memory_over_rollout(model, steps=20 if cfg.quick else cfg.long_rollout)
    if cfg.reset_memory:
        results["reset_memory"] = b.memory_over_resets(str(_checkpoint(cfg.checkpoint)), cfg.reset_memory,
                                                       every=max(1, cfg.reset_memory // 20))
    results["training"] = b.training_throughput(model, batch_size=4 if cfg.quick else 32, steps=1 if cfg.quick else 3)
    results["collection"] = b.measure_collect_throughput(cfg.gt_env, episodes=2 if cfg.quick else 16, steps=30,
                                                         workers=(1,) if cfg.quick else (1, 2), policy="scripted")
    one = next(r for r in results["learned_sim"] if r["batch"] == 1 and r["sampling_steps"] == max(cfg.sampling_steps))
    results["learned_vs_gt_at_batch_1"] = round(one["env_steps_per_s"] / results["gt_env"]["steps_per_s"], 4)
    results["cost_per_simulated_minute"] = b.cost_per_simulated_minute(results["learned_sim"], results["gt_env"],
                                                                       max(cfg.sampling_steps))
    if cfg.json:
        write_json(cfg.json, results)
    return results


def run_bench(cfg: BenchConfig) -> None:
    r = bench(cfg)
    print(f"{'batch':>6}{'steps':>7}{'env steps/s':>14}{'ms/step':>10}{'KV bytes/env':>14}")
    for row in r["learned_sim"]:
        print(f"{row['batch']:>6}{row['sampling_steps']:>7}{row['env_steps_per_s']:>14}{row['step_ms']:>10}"
              f"{row['kv_cache_bytes_per_env']:>14}")
    print(f"MuJoCo {cfg.gt_env} step+render: {r['gt_env']['steps_per_s']:.0f} steps/s")
    cost = r["cost_per_simulated_minute"]
    print("one simulated minute (600 steps), wall / CPU seconds: "
          + ", ".join(f"{name} {c['wall_s']} / {c['cpu_s']}" + (f" (batch {c['batch']})" if "batch" in c else "")
                      for name, c in cost.items() if isinstance(c, dict)))
    print(f"KV cache vs recompute: {json.dumps(r['cache_vs_recompute'])}")
    print(f"training: {r['training']['frames_per_s']} frames/s; memory flat after window: "
          f"{r['memory']['flat_after_window']}")
    if cfg.json:
        print(f"recorded in {cfg.json}")


# --------------------------------------------------------------------------------------------
#                                           play
# --------------------------------------------------------------------------------------------


@dataclass
class PlayConfig:
    """``worldsim play``: drive the learned simulator and MuJoCo side by side from a browser."""

    env: str = "WorldSim/PushBox-v0"
    """Scene to start in (the page can switch; a prompt picks its own)."""
    prompt: str | None = None
    """Scenario to start from, in words the prompt parser reads."""
    checkpoint: str | None = None
    """World-model checkpoint directory (default: the shipped one)."""
    host: str = "127.0.0.1"
    """Address to listen on; only this machine can reach the default."""
    port: int = 8000
    """Port to listen on (0: any free one)."""
    max_sessions: int = 4
    """Browser tabs that may play at once."""
    sampling_steps: Literal[1, 2, 4] = 2
    """Denoising steps per frame at the start (the page switches between 1, 2 and 4)."""
    seed: int = 0
    """Seed of the first episode."""
    out: str = "outputs/play"
    """Where recordings (mp4 plus provenance sidecar) go."""
    threads: int | None = 1
    """Torch CPU threads of the server process (None: PyTorch's default, one per core)."""


def run_play(cfg: PlayConfig) -> None:
    try:
        from .play.server import serve
    except ImportError as e:
        raise SystemExit(f"worldsim play needs Starlette and uvicorn ({e}): pip install -e '.[play]'") from e
    from .play.session import PlaySettings

    settings = PlaySettings(env=cfg.env, prompt=cfg.prompt, seed=cfg.seed, checkpoint=cfg.checkpoint,
                            sampling_steps=cfg.sampling_steps, out=cfg.out)
    serve(settings, host=cfg.host, port=cfg.port, max_sessions=cfg.max_sessions, threads=cfg.threads)


# --------------------------------------------------------------------------------------------
#                                          convert
# --------------------------------------------------------------------------------------------


@dataclass
class ConvertConfig:
    """``worldsim convert``: write a checkpoint again for shipping, its weights in a smaller precision."""

    checkpoint: str
    """The checkpoint to convert (e.g. a run's ``model/``)."""
    out: str
    """Directory of the converted checkpoint (replaced as a whole if it holds one)."""
    storage: Literal["float16", "bfloat16", "float32"] = "float16"
    """Precision of the stored weights; loading turns them back into float32."""


def convert(cfg: ConvertConfig) -> dict[str, Any]:
    """Save ``cfg.checkpoint`` again in ``cfg.storage``; returns sizes and hashes."""
    from .checkpoint import checkpoint_hash

    source = Path(cfg.checkpoint)
    model = WorldModel.load(source)
    out = model.save(cfg.out, meta={**model.meta, "converted_from": model.checkpoint_hash, "storage": cfg.storage},
                     storage=cfg.storage)
    size = lambda d: (Path(d) / "weights.safetensors").stat().st_size
    return {"checkpoint": str(source), "out": str(out), "storage": cfg.storage, "bytes_before": size(source),
            "bytes_after": size(out), "hash_after": checkpoint_hash(out)[:16]}


def run_convert(cfg: ConvertConfig) -> None:
    _print_json(convert(cfg))


def run_export(cfg: ExportConfig) -> None:
    from .export import to_minari

    _print_json(to_minari(cfg))


# --------------------------------------------------------------------------------------------
#                                           main
# --------------------------------------------------------------------------------------------

VERBS: dict[str, tuple[type, Callable[[Any], None]]] = {
    "collect": (CollectCommand, run_collect),
    "train": (TrainCommand, run_train),
    "finetune": (FinetuneCommand, run_finetune),
    "finetune-decoder": (DecoderConfig, run_finetune_decoder),
    "check": (CheckConfig, run_check),
    "rollout": (RolloutConfig, run_rollout),
    "demo": (DemoConfig, run_demo),
    "bench": (BenchConfig, run_bench),
    "play": (PlayConfig, run_play),
    "convert": (ConvertConfig, run_convert),
    "export": (ExportConfig, run_export),
}


def _own_errors() -> tuple[type[BaseException], ...]:
    """Errors whose message says what is wrong and what to do: printed as one line, not a traceback."""
    from .checkpoint import CheckpointError
    from .store import StoreError
    from .text import TextEncoderError
    from .trainer import DivergedError

    return (CheckpointError, StoreError, TextEncoderError, DivergedError, ValueError, FileNotFoundError,
            FileExistsError)


def _unprefixed(arg: str) -> str:
    """``--finetune.steps`` as ``--steps``: fine-tuning's flags were once nested under ``finetune.``."""
    return "--" + arg[len("--finetune."):] if arg.startswith("--finetune.") else arg


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``worldsim`` console script.

    ``--version`` prints the version; ``--debug`` (anywhere) shows the full traceback of an error
    that is otherwise printed as one line."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--version" in argv:
        from . import __version__

        print(f"worldsim {__version__}")
        return
    debug = "--debug" in argv
    argv = [_unprefixed(a) for a in argv if a != "--debug"]
    cfg = tyro.extras.subcommand_cli_from_dict({name: cls for name, (cls, _) in VERBS.items()}, args=argv,
                                              prog="worldsim")
    verb = next(name for name, (cls, _) in VERBS.items() if isinstance(cfg, cls))
    try:
        VERBS[verb][1](cfg)
    except _own_errors() as e:
        if debug:
            raise
        print(f"worldsim {verb}: {type(e).__name__}: {e}  (--debug shows the traceback)", file=sys.stderr)
        raise SystemExit(2) from None
