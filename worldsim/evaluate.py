"""Checking the learned simulator against ground truth, horizon by horizon.

Given ground-truth episodes (frames and the actions that produced them), the simulator starts from
each episode's first ``context`` frames and is fed the same actions, open loop. Each generated
frame is scored against the ground-truth frame at the same step, and so is the trivial baseline
that repeats the last context frame. Scores per horizon ``h = 1 .. H``:

* PSNR and SSIM;
* centroid error in pixels of the objects that move in the ground truth, found by colour masks
  with the same detector on both sides (PSNR is a poor judge of mostly static scenes: repeating the
  last frame already scores high);
* object permanence: the share of ground-truth-visible objects present in the generation, and
  placement: the share present within a few pixels of where the ground truth has them;
* reward error and termination accuracy (the model's heads against the env's values).

:func:`head_scores` checks the reward and termination heads alone, teacher forced: on true frames,
as a policy trained in imagined episodes meets them right after a dataset start.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import metrics
from .data import pad_actions
from .frame_heads import reward_termination_scores
from .simulator import Simulator
from .store import Episode

RGB = tuple[int, int, int]
SUMMARY_HORIZONS = (1, 16, 64)


@dataclass
class Rollouts:
    """Ground truth and generations over the horizon, aligned step by step."""

    gt: np.ndarray  # (N, H, h, w, 3) uint8, ground-truth frames at horizons 1..H
    model: np.ndarray  # (N, H, h, w, 3) uint8, generated
    baseline: np.ndarray  # (N, H, h, w, 3) uint8, last context frame repeated
    valid: np.ndarray  # (N, H) bool, False past the end of a shorter episode
    gt_reward: np.ndarray  # (N, H)
    model_reward: np.ndarray  # (N, H)
    gt_done: np.ndarray  # (N, H) bool
    model_done: np.ndarray  # (N, H) bool

    @property
    def last_context(self) -> np.ndarray:
        """``(N, h, w, 3)``: the last true frame before the horizon (what the baseline repeats)."""
        return self.baseline[:, 0]

    @classmethod
    def concat(cls, parts: list[Rollouts]) -> Rollouts:
        """Pool rollouts along the episode axis, e.g. the same episodes under several sampling seeds."""
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))


def rollout_against(sim: Simulator, episodes: list[Episode], context: int, horizon: int,
                    action_dim: int | None = None, seed: int = 0) -> Rollouts:
    """Run ``sim`` (batch = ``len(episodes)``) open loop on each episode's actions.

    Args:
        sim: Simulator with ``batch_size == len(episodes)``.
        episodes: Ground-truth episodes, each at least ``context`` frames long.
        context: Ground-truth frames given as context (k >= 1).
        horizon: Steps generated after the context.
        action_dim: The model's action size (env actions are zero-padded to it).
        seed: Seed of the sampling noise.
    """
    n = len(episodes)
    if sim.batch_size != n:
        raise ValueError(f"simulator batch {sim.batch_size} != {n} episodes")
    a_dim = action_dim or sim.action_dim
    short = [i for i, ep in enumerate(episodes) if len(ep.frames) < context]
    if short:
        raise ValueError(f"episodes {short} have fewer than context={context} frames")
    total = context - 1 + horizon  # actions needed
    actions = np.zeros((n, total, a_dim), np.float32)
    size = episodes[0].frames.shape[1:]
    gt = np.zeros((n, horizon, *size), np.uint8)
    valid = np.zeros((n, horizon), bool)
    gt_reward = np.zeros((n, horizon), np.float32)
    gt_done = np.zeros((n, horizon), bool)
    for i, ep in enumerate(episodes):
        T = min(len(ep.actions), total)
        actions[i, :T] = pad_actions(ep.actions[:T], a_dim)
        steps = max(0, min(horizon, len(ep.frames) - context))
        gt[i, :steps] = ep.frames[context:context + steps]
        gt[i, steps:] = ep.frames[-1]
        valid[i, :steps] = True
        gt_reward[i, :steps] = ep.rewards[context - 1:context - 1 + steps]
        gt_done[i, :steps] = ep.terminated[context - 1:context - 1 + steps]
    ctx = np.stack([ep.frames[:context] for ep in episodes])  # (N, k, h, w, 3)
    sim.reset(context_frames=ctx, context_actions=actions[:, : context - 1],
              prompt=[ep.caption for ep in episodes], seed=seed)
    model = np.zeros_like(gt)
    model_reward = np.zeros((n, horizon), np.float32)
    model_done = np.zeros((n, horizon), bool)
    for h in range(horizon):
        out = sim.step(actions[:, context - 1 + h])
        model[:, h], model_reward[:, h], model_done[:, h] = out.frames, out.rewards, out.terminated
    baseline = np.repeat(ctx[:, -1:], horizon, axis=1)
    return Rollouts(gt, model, baseline, valid, gt_reward, model_reward, gt_done, model_done)


def _nan_stats(values: np.ndarray) -> dict[str, list[float]]:
    """Mean and std over axis 0 of ``(N, H)``, ignoring NaN; JSON-safe (NaN -> None)."""
    with np.errstate(invalid="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore", RuntimeWarning)
        mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    clean = lambda a: [None if not np.isfinite(v) else round(float(v), 4) for v in a]
    return {"mean": clean(mean), "std": clean(std)}


def frame_scores(gt: np.ndarray, gen: np.ndarray, valid: np.ndarray, since: np.ndarray, colors: dict[str, RGB],
                 background: tuple[RGB, ...] = ()) -> dict[str, np.ndarray]:
    """Per-episode, per-horizon image and object scores, ``(N, H)`` each (NaN where not defined).

    ``since`` ``(N, h, w, 3)`` is the last true frame before the horizon, from which motion is counted.
    Two centroid errors of moving objects: ``centroid_error_px`` counts every object whose true path
    spans more than 2 px anywhere in the horizon, at every step, also while it still rests;
    ``centroid_error_moved_px`` counts an object from the step it has moved at all (0.25 px) since
    ``since``, so its value at a step does not change with the length of the check; ``moved_permanence``
    is the share of those moved objects the generation still shows; ``placed`` the share of all objects
    it shows within a few pixels of their true place (:meth:`~worldsim.metrics.ObjectComparison.placed`);
    ``reappeared_placed`` the same share of the objects back in view after the truth hid them
    (:meth:`~worldsim.metrics.ObjectComparison.reappeared_placed`), which a model only gets right if it
    remembers what it cannot see.
    ``colors`` are the
    objects' rendered colours; ``background`` colours (floor, walls) compete for pixels in the detector
    but are not reported.
    """
    N, H = valid.shape
    psnr = np.full((N, H), np.nan)
    ssim = np.full((N, H), np.nan)
    centroid = np.full((N, H), np.nan)
    moved = np.full((N, H), np.nan)
    permanence = np.full((N, H), np.nan)
    moved_kept = np.full((N, H), np.nan)
    placed = np.full((N, H), np.nan)
    reappeared = np.full((N, H), np.nan)
    histogram = np.full((N, H), np.nan)
    for i in range(N):
        v = valid[i]
        if not v.any():
            continue
        g, p = gt[i, v], gen[i, v]
        psnr[i, v] = np.minimum(metrics.psnr(g, p), 100.0)  # identical frames are inf; cap for averaging
        ssim[i, v] = metrics.ssim(g, p)
        objects = metrics.compare_objects(g, p, colors, background=background, since=since[i])  # one detector
        centroid[i, v] = objects.moving_error()  # NaN where no object moves
        moved[i, v] = objects.moving_error(per_step=True)
        permanence[i, v] = objects.permanence
        moved_kept[i, v] = objects.moved_permanence()
        placed[i, v] = objects.placed()
        reappeared[i, v] = objects.reappeared_placed()
        histogram[i, v] = metrics.color_histogram_distance(g, p)
    return {"psnr": psnr, "ssim": ssim, "centroid_error_px": centroid, "centroid_error_moved_px": moved,
            "permanence": permanence, "moved_permanence": moved_kept, "placed": placed,
            "reappeared_placed": reappeared, "color_histogram_distance": histogram}


def score_rollouts(r: Rollouts, colors: dict[str, RGB], background: tuple[RGB, ...] = ()) -> dict[str, dict]:
    """Per-horizon mean/std of every metric for the model and the repeat-last-frame baseline."""
    report = {}
    for name, frames in (("model", r.model), ("baseline", r.baseline)):
        scores = frame_scores(r.gt, frames, r.valid, r.last_context, colors, background)
        report[name] = {k: _nan_stats(v) for k, v in scores.items()}
    invalid = ~r.valid
    reward_err = np.abs(r.model_reward - r.gt_reward).astype(np.float64)
    reward_err[invalid] = np.nan
    done_acc = (r.model_done == r.gt_done).astype(np.float64)
    done_acc[invalid] = np.nan
    report["model"]["reward_abs_error"] = _nan_stats(reward_err)
    report["model"]["termination_accuracy"] = _nan_stats(done_acc)
    return report


def autoencoder_ceiling(autoencoder, r: Rollouts, colors: dict[str, RGB],
                        background: tuple[RGB, ...] = ()) -> dict[str, dict]:
    """Scores of the ground-truth frames passed through the autoencoder alone (encode, decode).

    The simulator's frames come out of the same decoder, so this is the best any rollout can score:
    it separates what the autoencoder loses (blur, small objects) from what the DiT gets wrong.
    """
    recon = autoencoder.round_trip(r.gt)
    scores = frame_scores(r.gt, recon, r.valid, r.last_context, colors, background)
    return {k: _nan_stats(v) for k, v in scores.items()}


def summarise(report: dict, horizon: int) -> dict[str, dict]:
    """Values at horizons 1, 16 and 64 (those within the horizon) for quick reading, and the mean over
    each band between them (``h2-16``, ``h17-64``). One horizon step over a few episodes is noisy (a
    lost object is charged the frame diagonal); the band mean is the steadier figure."""
    out: dict[str, dict] = {}
    bands = [(a + 1, b) for a, b in zip(SUMMARY_HORIZONS, SUMMARY_HORIZONS[1:]) if b <= horizon]
    for side in ("model", "baseline", "autoencoder"):
        for metric, stats in report.get(side, {}).items():
            row = out.setdefault(side, {}).setdefault(metric, {})
            for h in SUMMARY_HORIZONS:
                if h <= horizon:
                    row[f"h{h}"] = stats["mean"][h - 1]
            for a, b in bands:
                values = [v for v in stats["mean"][a - 1:b] if v is not None and np.isfinite(v)]
                row[f"h{a}-{b}"] = round(float(np.mean(values)), 4) if values else None
    return out


def side_by_side(gt: np.ndarray, gen: np.ndarray, scale: int = 3) -> np.ndarray:
    """Video frames ``(T, h*scale, 3*w*scale + 2*gap, 3)``: ground truth | generated | abs difference."""
    diff = np.abs(gt.astype(np.int16) - gen.astype(np.int16)).astype(np.uint8)
    gap = np.full((*gt.shape[:2], 2, 3), 255, np.uint8)
    row = np.concatenate([gt, gap, gen, gap, diff], axis=2)
    return row.repeat(scale, axis=1).repeat(scale, axis=2)


def head_scores(sim: Simulator, episodes: list[Episode]) -> dict[str, float | int | None]:
    """The reward and termination heads on true frames, against the env's values.

    Every episode is given to ``sim`` (batch 1) whole as context (teacher forced), and the heads'
    reading of each transition (the frame heads' when the model has them, else the DiT's) is compared
    with what the env returned: :func:`~worldsim.frame_heads.reward_termination_scores` at the
    simulator's ``done_threshold``, and the mean termination probability the heads give terminal and
    other steps (None where there are none).
    """
    if sim.batch_size != 1:
        raise ValueError(f"head_scores gives each episode whole to a simulator of batch 1, got batch {sim.batch_size}")
    true_r, pred_r, true_d, pred_p = [], [], [], []
    for ep in episodes:
        if len(ep) < 1:
            continue
        acts = pad_actions(ep.actions, sim.action_dim)[None]
        sim.reset(context_frames=ep.frames[None], context_actions=acts, prompt=[ep.caption], seed=0)
        true_r.append(ep.rewards)
        true_d.append(ep.terminated)
        pred_r.append(sim.context_heads.rewards[0])
        pred_p.append(sim.context_heads.done_prob[0])
    if not true_r:
        raise ValueError("no episode with a transition to score the heads on")
    d, prob = np.concatenate(true_d).astype(bool), np.concatenate(pred_p)
    mean_or_none = lambda x: float(x.mean()) if x.size else None  # noqa: E731
    return {**reward_termination_scores(np.concatenate(true_r), np.concatenate(pred_r), d, prob,
                                        sim.cfg.done_threshold),
            "done_prob_terminal": mean_or_none(prob[d]), "done_prob_other": mean_or_none(prob[~d])}
