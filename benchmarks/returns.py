"""Objects back in view after hiding: the model's steps from the true frames before each return.

    .venv/bin/python benchmarks/returns.py --json outputs/returns.json
    .venv/bin/python benchmarks/returns.py --checkpoint runs/X/model --ahead 4 --json F

Fresh Occlusion episodes (seeds from 1,000,000, as ``worldsim check``; scripted policy). For every
object the truth shows, hides (under the slab) and shows again, the simulator starts from the true
frames up to the one before it is back (at most the model's attention span of them, window and memory),
then makes ``--ahead`` steps with the recorded actions. Reported for each step j = 1..ahead after the
return (``placed_by_step``): the share of those objects drawn within 4 px of their true centroid, pooled
over ``--samples`` sampling seeds, beside two sets of frames made without the DiT:

* ``repeat_last``: the last context frame, repeated (the object is not in it);
* ``autoencoder``: the true frames encoded and decoded, the best a generated frame can score (a sliver
  just out from under the slab is often too small to survive it).

This separates recall from the rest of a rollout: on Occlusion, ``worldsim check``'s
``reappeared_placed`` also needs the model to carry the object under the slab by itself first.
"""

from __future__ import annotations

import argparse
from typing import NamedTuple

import numpy as np

from worldsim import metrics
from worldsim.check import detector_colors
from worldsim.collect import make_env, rollout
from worldsim.diffusion import SamplerConfig
from worldsim.report import write_json
from worldsim.simulator import Simulator, SimulatorConfig
from worldsim.worldmodel import WorldModel, default_checkpoint


class Return(NamedTuple):
    """Object ``k`` of episode ``episode`` is back in view at frame ``t``, after hiding."""

    episode: int
    t: int
    k: int


def find_returns(frames: list[np.ndarray], colors, background, ahead: int) -> list[Return]:
    """Every first frame back in view of an object, in episodes of frames ``(T+1, H, W, 3)``, with
    ``ahead`` frames from it on in the episode."""
    out = []
    for e, f in enumerate(frames):
        visible = metrics.detect_objects(f, colors, background=background).visible  # (T+1, K)
        back = metrics.reappeared_mask(visible)
        for t, k in zip(*np.nonzero(back[1:] & ~back[:-1])):
            if t + 1 + ahead <= len(f):
                out.append(Return(e, int(t) + 1, int(k)))
    return out


def placed(frames: np.ndarray, truth: np.ndarray, k: int, colors, background) -> np.ndarray:
    """bool ``(n,)``: object ``k`` is drawn in each of ``frames`` ``(n, H, W, 3)`` within the placed radius
    of where it is in ``truth`` ``(n, H, W, 3)``."""
    both = metrics.detect_objects(np.stack([frames, truth]), colors, background=background).centroids  # (2, n, K, 2)
    dist = np.linalg.norm(both[0, :, k] - both[1, :, k], axis=-1)
    return np.nan_to_num(dist, nan=np.inf) <= metrics.DEFAULT_PLACED_RADIUS


def measure(model: WorldModel, episodes, returns: list[Return], ahead: int, samples: int, seed: int,
            cfg: SimulatorConfig, colors, background) -> dict[str, list[float]]:
    """Share placed at each of ``ahead`` steps after the returns: the model's (pooled over ``samples``
    seeds), the repeated last context frame's and the autoencoder's."""
    sim = Simulator(model, 1, cfg)
    span = sim.dit.cfg.span
    hits = {"model": np.zeros(ahead), "repeat_last": np.zeros(ahead), "autoencoder": np.zeros(ahead)}
    for r in returns:
        ep = episodes[r.episode]
        truth = ep.frames[r.t:r.t + ahead]  # (ahead, H, W, 3)
        lo = max(0, r.t - span)
        actions = np.zeros((len(ep.actions), sim.action_dim), np.float32)
        actions[:, :ep.actions.shape[1]] = ep.actions
        for s in range(samples):
            sim.reset(context_frames=ep.frames[None, lo:r.t], context_actions=actions[None, lo:r.t - 1],
                      seed=seed + s)
            drawn = np.stack([sim.step(actions[None, r.t - 1 + j]).frames[0] for j in range(ahead)])
            hits["model"] += placed(drawn, truth, r.k, colors, background) / samples
        hits["repeat_last"] += placed(np.repeat(ep.frames[r.t - 1:r.t], ahead, 0), truth, r.k, colors, background)
        hits["autoencoder"] += placed(model.autoencoder.round_trip(truth), truth, r.k, colors, background)
    return {name: [round(float(v), 4) for v in h / max(len(returns), 1)] for name, h in hits.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--env", default="WorldSim/Occlusion-v0")
    p.add_argument("--episodes", type=int, default=32)
    p.add_argument("--steps", type=int, default=30, help="steps of each episode")
    p.add_argument("--ahead", type=int, default=4, help="model steps from the one that brings the object back")
    p.add_argument("--samples", type=int, default=3, help="sampling seeds pooled")
    p.add_argument("--seed", type=int, default=1_000_000)
    p.add_argument("--sampling-steps", type=int, default=None, help="denoising moves per frame (default: the "
                   "checkpoint's)")
    p.add_argument("--latent-hold", type=float, default=None,
                   help="put back latent cells that changed by at most this (default: the checkpoint's)")
    p.add_argument("--json", default="outputs/returns.json")
    a = p.parse_args()
    if a.ahead < 1 or a.samples < 1:
        raise SystemExit("--ahead and --samples must be at least 1")
    model = WorldModel.load(a.checkpoint or default_checkpoint())
    colors, background = detector_colors()
    env = make_env(a.env, {"max_episode_steps": a.steps})
    episodes = [rollout(env, steps=a.steps, seed=a.seed + i, policy="scripted") for i in range(a.episodes)]
    env.close()
    returns = find_returns([ep.frames for ep in episodes], colors, background, a.ahead)
    if not returns:
        raise SystemExit(f"no object comes back into view in {a.episodes} episodes of {a.env}; use more or longer "
                         "episodes, or a scene with an occluder")
    cfg = SimulatorConfig(sampler=SamplerConfig(steps=a.sampling_steps), latent_hold=a.latent_hold)
    placed_by_step = measure(model, episodes, returns, a.ahead, a.samples, a.seed, cfg, colors, background)
    for name, shares in placed_by_step.items():
        print(f"{name}: placed at steps 1..{a.ahead} after the return: {shares}")
    write_json(a.json, {"checkpoint": model.checkpoint_hash, "config": vars(a), "returns": len(returns),
                        "placed_by_step": placed_by_step})


if __name__ == "__main__":
    main()
