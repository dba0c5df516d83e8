"""Scenarios from text, beside MuJoCo: ``worldsim rollout`` and ``worldsim demo``.

    worldsim rollout --prompt "a red box at the top left and a blue ball in the centre"
    worldsim demo

A prompt is parsed into a scene (:func:`worldsim.envs.parse_prompt`); MuJoCo simulates it and the learned
simulator rolls it out from the same first frame (or draws frame 0 from the text), with the same
actions; the two go side by side into a video, and frame 0 is scored for what the prompt asked.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from . import metrics
from .check import CheckConfig, check, detector_colors
from .collect import make_env
from .data import pad_actions
from .diffusion import SamplerConfig
from .evaluate import side_by_side
from .report import write_json, write_video
from .simulator import Simulator, SimulatorConfig
from .worldmodel import WorldModel, resolve_checkpoint


@dataclass
class RolloutConfig:
    """worldsim rollout: a scenario from text, beside the same scenario simulated by MuJoCo."""

    prompt: str = "a red box at the top left and a blue ball in the centre; the white agent is at the bottom right"
    """What to simulate. Words the parser does not know give an error listing the supported ones. The
    model is given the caption of the parsed scene (caption_of_gt_scene in the report), so any
    wording the parser reads reaches it in the captioner's words."""
    steps: int = 30
    """Env steps to roll out (10 per simulated second)."""
    actions: str = "scripted"
    """random, scripted (the scene's pushing policy) or a .npy/.json file of (T, A) actions."""
    seed: int = 0
    """Seed of the scene details the prompt leaves out, the actions and the sampling noise."""
    checkpoint: str | None = None
    """World-model checkpoint directory (default: the shipped one)."""
    sampling_steps: int | None = None
    """Denoising moves per frame (default: the checkpoint's recorded moves, else 4)."""
    guidance: float = SimulatorConfig.guidance
    """Classifier-free guidance for the first frame."""
    first_frame_steps: int = SimulatorConfig.first_frame_steps
    """Denoising moves for the first frame (drawn from text alone)."""
    first_frame_candidates: int = SimulatorConfig.first_frame_candidates
    """First frames drawn from text per rollout; the one that best shows the parsed scene is kept
    (1: the first one drawn)."""
    start: Literal["grounded", "generated"] = "grounded"
    """grounded: frame 0 is MuJoCo's render of the parsed scene and the model rolls on from it;
    generated: the model draws frame 0 from the text alone."""
    frame0_seeds: int = 16
    """Also draw frame 0 from the text alone under seeds seed to seed + frame0_seeds - 1 and
    report the share that shows every named object: one draw is a coin flip, this is the rate (0: skip)."""
    out: str = "outputs/rollout"
    """Directory for the video and report."""
    json: str | None = None
    """Write the report here (default: out/rollout.json)."""


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
    from worldsim import envs
    from worldsim.envs.caption import SHAPE_NOUNS
    from worldsim.envs.layout import first_frame_score, layout_batch
    from worldsim.envs.prompt import PromptError

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
    model = WorldModel.load(resolve_checkpoint(cfg.checkpoint))
    sim_cfg = SimulatorConfig(sampler=SamplerConfig(steps=cfg.sampling_steps), guidance=cfg.guidance,
                              first_frame_steps=cfg.first_frame_steps,
                              first_frame_candidates=cfg.first_frame_candidates)
    sim = Simulator(model, 1, sim_cfg)
    # the model reads the prompt in the captioner's words (envs.canonical_prompt): the parsed scene's caption
    context = gt[0][None, None] if cfg.start == "grounded" else None
    layout = None if context is not None else layout_batch([spec], model.dit.cfg.layout_dim)
    gen = [sim.reset(context_frames=context, prompt=envs.caption(spec), seed=cfg.seed, layout=layout,
                     first_frame_score=first_frame_score([spec])).frames[0]]
    gen += [sim.step(a[None]).frames[0] for a in pad_actions(np.stack(acts), sim.action_dim)]
    gt_frames, gen_frames = np.stack(gt), np.stack(gen)
    # One detector over the whole palette, as `check` uses: a named colour counts only where it is the
    # nearest of all, and colours the prompt does not name show up as extras.
    colors, background = detector_colors()
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
    from worldsim import envs
    from worldsim.envs.layout import first_frame_score, layout_batch

    specs = [envs.parse_prompt(cfg.prompt, seed=cfg.seed + i) for i in range(cfg.frame0_seeds)]
    sim = Simulator(model, len(specs), sim_cfg)
    frames = sim.reset(prompt=[envs.caption(spec) for spec in specs], seed=cfg.seed,
                       layout=layout_batch(specs, model.dit.cfg.layout_dim),
                       first_frame_score=first_frame_score(specs)).frames
    colors, background = detector_colors()
    found = [metrics.find_objects(frame, colors, background=background) for frame in frames]
    hits = [all(det[o.color] is not None for o in spec.objects) for det, spec in zip(found, specs)]
    return {"seeds": len(hits), "all_named_objects_present": float(np.mean(hits))}


@dataclass
class DemoConfig:
    """worldsim demo: a prompted rollout, a Gymnasium loop and a short check, on the shipped model."""

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

    from worldsim import envs  # noqa: F401

    out = Path(cfg.out)
    ckpt = str(resolve_checkpoint(cfg.checkpoint))
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
