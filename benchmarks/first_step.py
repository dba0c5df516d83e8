"""How well the model scales the next move of each object, by how many true frames it has seen.

    .venv/bin/python benchmarks/first_step.py --json outputs/first_step.json
    .venv/bin/python benchmarks/first_step.py --env WorldSim/Occlusion-v0 --contexts 1 --json F

Fresh episodes (seeds from 1,000,000, as ``worldsim check``) run with the scripted policy. For each
context length k the simulator starts from the first k true frames and makes one step with the
recorded action. Object centroids (the colour detector of ``worldsim check``) give each object's
true move and its generated move from the last context frame. Reported per k, for the agent
(``by_context``) and for the other objects that truly move more than 1 px in that step
(``others_by_context``; on Occlusion, the object launched at reset):

* ``true_px`` and ``generated_px``: mean length of the two moves;
* ``error_px``: mean distance between the generated and the true centroid;
* ``slope``: the least-squares scale of the generated move on the true one (1 is right, above 1
  an overshoot).

Beside the model, the same fits for two frames made without it (``baselines``, keyed like the rows):

* ``round_trip``: the true next frame encoded and decoded, the best a generated frame can be;
* ``extrapolated``: the last context latent plus its change from the one before, decoded (k >= 2):
  the motion that continuing each latent cell's change in a straight line draws.

With k = 1 the move is the first one from rest (or from the launch), which only clips that start at
an episode's first frame teach.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from worldsim import envs, metrics
from worldsim.collect import make_env, rollout
from worldsim.diffusion import SamplerConfig
from worldsim.evaluate import rollout_against
from worldsim.report import write_json
from worldsim.simulator import Simulator, SimulatorConfig
from worldsim.worldmodel import WorldModel, default_checkpoint


def moves(episodes, generated: np.ndarray, context: int, colors, background) -> tuple[np.ndarray, np.ndarray]:
    """True and generated moves ``(N, K, 2)`` of every object, in pixels from the last context frame
    (NaN where an object is not found)."""
    frames = np.stack([np.stack([ep.frames[context - 1], ep.frames[context], gen])
                       for ep, gen in zip(episodes, generated)])  # (N, 3: before, true after, generated)
    c = metrics.detect_objects(frames, colors, background=background).centroids  # (N, 3, K, 2)
    return c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]


def fit(true: np.ndarray, gen: np.ndarray) -> dict:
    """Summary of matched moves ``(M, 2)``."""
    if not len(true):
        return {"moves": 0}
    return {"true_px": round(float(np.linalg.norm(true, axis=1).mean()), 3),
            "generated_px": round(float(np.linalg.norm(gen, axis=1).mean()), 3),
            "error_px": round(float(np.linalg.norm(gen - true, axis=1).mean()), 3),
            "slope": round(float((true * gen).sum() / (true * true).sum()), 3),
            "moves": len(true)}


@torch.no_grad()
def baseline_frames(model: WorldModel, episodes, context: int) -> dict[str, np.ndarray]:
    """Frames ``(N, H, W, 3)`` for the step after ``context`` true frames made without the DiT."""
    ae = model.autoencoder
    out = {"round_trip": ae.round_trip(np.stack([ep.frames[context] for ep in episodes]))}
    if context >= 2:
        last, before = (ae.encode(torch.from_numpy(np.stack([ep.frames[context - d] for ep in episodes])))
                        for d in (1, 2))
        out["extrapolated"] = ae.decode(2 * last - before).numpy()
    return out


def fits(episodes, generated: np.ndarray, context: int, colors, background, agent: int) -> tuple[dict, dict]:
    """The agent's and the other moving objects' fits of ``generated`` after ``context`` true frames."""
    true, gen = moves(episodes, generated, context, colors, background)  # (N, K, 2)
    found = ~np.isnan(true).any(-1) & ~np.isnan(gen).any(-1)  # (N, K)
    moving = found & (np.linalg.norm(np.nan_to_num(true), axis=-1) > 1.0)
    moving[:, agent] = False
    return fit(true[found[:, agent], agent], gen[found[:, agent], agent]), fit(true[moving], gen[moving])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--env", default="WorldSim/PushBox-v0")
    p.add_argument("--episodes", type=int, default=32)
    p.add_argument("--contexts", type=int, nargs="+", default=[1, 2, 3, 5])
    p.add_argument("--seed", type=int, default=1_000_000)
    p.add_argument("--sampling-steps", type=int, default=4, help="denoising moves per frame")
    p.add_argument("--latent-hold", type=float, default=None,
                   help="put back latent cells that changed by at most this (default: the checkpoint's)")
    p.add_argument("--json", default="outputs/first_step.json")
    a = p.parse_args()
    model = WorldModel.load(a.checkpoint or default_checkpoint())
    colors, background = envs.render_palette(), tuple(envs.render_scenery_colors().values())  # as `check`
    env = make_env(a.env, {"max_episode_steps": max(a.contexts) + 1})
    episodes = [rollout(env, steps=max(a.contexts), seed=a.seed + i, policy="scripted") for i in range(a.episodes)]
    env.close()
    sim = Simulator(model, a.episodes, SimulatorConfig(sampler=SamplerConfig(steps=a.sampling_steps),
                                                     latent_hold=a.latent_hold))
    rows, others, baselines = {}, {}, {}
    agent = list(colors).index("agent")
    for k in a.contexts:
        r = rollout_against(sim, episodes, k, 1, seed=a.seed)
        rows[str(k)], others[str(k)] = fits(episodes, r.model[:, 0], k, colors, background, agent)
        print(f"context {k}: agent {rows[str(k)]}; other moving objects {others[str(k)]}")
        for name, frames in baseline_frames(model, episodes, k).items():
            agent_fit, others_fit = fits(episodes, frames, k, colors, background, agent)
            baselines.setdefault(name, {})[str(k)] = {"agent": agent_fit, "others": others_fit}
            print(f"  {name}: agent slope {agent_fit.get('slope')}, other moving objects slope "
                  f"{others_fit.get('slope')}")
    write_json(a.json, {"checkpoint": model.checkpoint_hash, "config": vars(a), "by_context": rows,
                        "others_by_context": others, "baselines": baselines})


if __name__ == "__main__":
    main()
