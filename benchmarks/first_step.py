"""How well the model scales the agent's next move, by how many true frames it has seen.

    .venv/bin/python benchmarks/first_step.py --json benchmarks/first_step.json

Fresh PushBox episodes (seeds from 1,000,000, as ``worldsim check``) run with the scripted policy.
For each context length k the simulator starts from the first k true frames and makes one step
with the recorded action. The agent's centroid (the colour detector of ``worldsim check``) gives
its true move and its generated move from the last context frame. Reported per k:

* ``true_px`` and ``generated_px``: mean length of the two moves;
* ``error_px``: mean distance between the generated and the true centroid;
* ``slope``: the least-squares scale of the generated move on the true one (1 is right, above 1
  an overshoot).

With k = 1 the move is the first one from rest, which only clips that start at an episode's first
frame teach.
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import argparse

import numpy as np

import envs
from envs.learned import default_checkpoint
from worldsim import metrics
from worldsim.cli import make_env, rollout
from worldsim.diffusion import SamplerConfig
from worldsim.evaluate import rollout_against
from worldsim.report import write_json
from worldsim.simulator import Simulator, SimulatorConfig
from worldsim.worldmodel import WorldModel


def agent_moves(episodes, generated: np.ndarray, context: int, colors, background) -> tuple[np.ndarray, np.ndarray]:
    """True and generated agent moves ``(N, 2)`` in pixels from the last context frame (NaN if lost)."""
    frames = np.stack([np.stack([ep.frames[context - 1], ep.frames[context], gen])
                       for ep, gen in zip(episodes, generated)])  # (N, 3: before, true after, generated)
    c = metrics.detect_objects(frames, colors, background=background).centroids[:, :, list(colors).index("agent")]
    return c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--episodes", type=int, default=32)
    p.add_argument("--contexts", type=int, nargs="+", default=[1, 2, 3, 5])
    p.add_argument("--seed", type=int, default=1_000_000)
    p.add_argument("--json", default="benchmarks/first_step.json")
    a = p.parse_args()
    model = WorldModel.load(a.checkpoint or default_checkpoint())
    colors, background = envs.render_palette(), tuple(envs.render_scenery_colors().values())  # as `check`
    env = make_env("WorldSim/PushBox-v0", {"max_episode_steps": max(a.contexts) + 1})
    episodes = [rollout(env, steps=max(a.contexts), seed=a.seed + i, policy="scripted") for i in range(a.episodes)]
    env.close()
    sim = Simulator(model, a.episodes, SimulatorConfig(sampler=SamplerConfig(steps=4)))
    rows = {}
    for k in a.contexts:
        r = rollout_against(sim, episodes, k, 1, seed=a.seed)
        true, gen = agent_moves(episodes, r.model[:, 0], k, colors, background)
        ok = ~np.isnan(true).any(1) & ~np.isnan(gen).any(1)
        t, g = true[ok], gen[ok]
        rows[str(k)] = {"true_px": round(float(np.linalg.norm(t, axis=1).mean()), 3),
                        "generated_px": round(float(np.linalg.norm(g, axis=1).mean()), 3),
                        "error_px": round(float(np.linalg.norm(g - t, axis=1).mean()), 3),
                        "slope": round(float((t * g).sum() / (t * t).sum()), 3),
                        "episodes": int(ok.sum())}
        print(f"context {k}: {rows[str(k)]}")
    write_json(a.json, {"checkpoint": model.checkpoint_hash, "config": vars(a), "by_context": rows})


if __name__ == "__main__":
    main()
