"""What happens to a pushed object in the first steps the model makes on its own.

    .venv/bin/python benchmarks/pushed_objects.py --json outputs/pushed_objects.json
    .venv/bin/python benchmarks/pushed_objects.py --checkpoint runs/x/model --episodes 32 --steps 8
    .venv/bin/python benchmarks/pushed_objects.py --env WorldSim/Occlusion-v0 --json outputs/glides.json

Fresh PushBox episodes (seeds from 3,000,000, as ``make results``) run with the scripted policy. From
every ``--stride``-th step of each episode the simulator starts on the last ``--context`` true frames
and makes ``--steps`` steps on the recorded actions, so the rollouts begin at every stage of a push,
many of them just before contact. With ``--env`` another scene's scripted episodes are used: on
Occlusion the objects that move are the ones launched at reset, gliding on their own. For each step k
the objects other than the agent that have moved since the start (``worldsim.metrics.compare_objects``,
``moved``) are scored:

* ``lost``: the share the generated frame no longer shows (the colour detector finds fewer than its
  minimum of pixels);
* ``error_px``: their centroid error, a lost object charged the frame diagonal, beside repeating the
  last true frame (``repeat_last_px``);
* ``found_error_px``: the error of those still shown;
* ``move_ratio``: how far along its true path from the start the model moves a pushed object it still
  shows (the least-squares scale of the generated move on the true one; below 1 it lags), beside the
  same for the agent, which the actions drive (``agent_move_ratio``).

The open-loop checks pool everything that moves over one start per episode; this one isolates the
pushed objects and starts often, so a change in how a model handles contact shows within a few
minutes of rollouts.
"""

from __future__ import annotations

import argparse

import numpy as np

from worldsim import envs, metrics
from worldsim.collect import make_env, rollout
from worldsim.data import pad_actions
from worldsim.diffusion import SamplerConfig
from worldsim.envs.scene import AGENT_PALETTE_NAMES
from worldsim.report import write_json
from worldsim.simulator import Simulator, SimulatorConfig
from worldsim.worldmodel import WorldModel, default_checkpoint


def starts(episodes, context: int, steps: int, stride: int) -> list[tuple[int, int]]:
    """(episode, t) pairs: t is the last true frame given, with ``steps`` true frames after it."""
    return [(i, t) for i, ep in enumerate(episodes) for t in range(context - 1, len(ep.frames) - 1 - steps, stride)]


def score(gt: np.ndarray, gen: np.ndarray, last: np.ndarray, colors, background, agent: str) -> dict[str, list]:
    """Per step, the pushed objects' (lost, error, repeat-last error) over all rollouts, and for those still
    drawn their (generated . true, true . true) moves since the last true frame, whose sums give how far
    along its true path the model moves a pushed object (``move_ratio``; 1 is right, below 1 it lags).

    ``gt`` and ``gen`` are ``(N, K, H, W, 3)``; ``last`` ``(N, H, W, 3)`` is the last true frame."""
    out: dict[str, list] = {key: [[] for _ in range(gt.shape[1])]
                            for key in ("lost", "error", "repeat", "moves", "agent_moves")}
    for j in range(len(gt)):
        model = metrics.compare_objects(gt[j], gen[j], colors, background=background, since=last[j])
        start = metrics.detect_objects(last[j], colors, background=background).centroids  # (objects, 2)
        seen = np.isfinite(start[:, 0])  # a move is measured from where the last true frame shows it
        # repeating the last true frame leaves each object at its start; one it does not show costs the penalty
        repeat = np.where(seen, np.hypot(*np.moveaxis(model.gt.centroids - start, -1, 0)), model.penalty)
        pushed = model.moved & model.gt.visible  # (K, objects)
        a = model.names.index(agent)
        for k in np.nonzero(pushed[:, a] & ~model.missing[:, a] & seen[a])[0]:  # the agent, driven by the actions
            out["agent_moves"][k].append(_moves(model, start, k, a))
        pushed[:, a] = False
        for k, obj in zip(*np.nonzero(pushed)):
            out["lost"][k].append(bool(model.missing[k, obj]))
            out["error"][k].append(float(model.error[k, obj]))
            out["repeat"][k].append(float(repeat[k, obj]))
            if not model.missing[k, obj] and seen[obj]:
                out["moves"][k].append(_moves(model, start, k, obj))
    return out


def _moves(cmp: metrics.ObjectComparison, start: np.ndarray, k: int, obj: int) -> tuple[float, float]:
    """(generated . true, true . true) of object ``obj``'s move from ``start`` to step ``k``."""
    true = cmp.gt.centroids[k, obj] - start[obj]
    return float(np.dot(cmp.gen.centroids[k, obj] - start[obj], true)), float(np.dot(true, true))


def _ratio(moves: list[tuple[float, float]]) -> float | None:
    """The least-squares scale of the generated moves on the true ones."""
    dot, norm = np.sum(moves, axis=0) if moves else (0.0, 0.0)
    return round(float(dot / norm), 3) if norm > 0 else None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--env", default="WorldSim/PushBox-v0", help="scene whose scripted episodes are used")
    p.add_argument("--episodes", type=int, default=32)
    p.add_argument("--seed", type=int, default=3_000_000, help="seed of the first episode (held out)")
    p.add_argument("--episode-steps", type=int, default=64)
    p.add_argument("--context", type=int, default=4, help="true frames each rollout starts from")
    p.add_argument("--steps", type=int, default=8, help="steps the model makes on its own")
    p.add_argument("--stride", type=int, default=3, help="a rollout starts at every stride-th step")
    p.add_argument("--sampling-steps", type=int, default=None,
                   help="denoising moves per frame (default: the checkpoint's recorded moves)")
    p.add_argument("--latent-hold", type=float, default=None,
                   help="the rollout's latent hold (default: the checkpoint's recorded one; 0: none)")
    p.add_argument("--json", default="outputs/pushed_objects.json")
    a = p.parse_args()
    env = make_env(a.env, {"max_episode_steps": a.episode_steps})
    episodes = [rollout(env, steps=a.episode_steps, seed=a.seed + i, policy="scripted") for i in range(a.episodes)]
    env.close()
    model = WorldModel.load(a.checkpoint or default_checkpoint())
    pairs = starts(episodes, a.context, a.steps, a.stride)
    sim = Simulator(model, len(pairs), SimulatorConfig(sampler=SamplerConfig(steps=a.sampling_steps),
                                                    latent_hold=a.latent_hold))
    context = np.stack([episodes[i].frames[t - a.context + 1:t + 1] for i, t in pairs])
    context_actions = np.stack([episodes[i].actions[t - a.context + 1:t] for i, t in pairs])
    sim.reset(context_frames=context, context_actions=pad_actions(context_actions, sim.action_dim), seed=a.seed)
    generated = np.stack([sim.step(pad_actions(np.stack([episodes[i].actions[t + k] for i, t in pairs]),
                                               sim.action_dim)).frames for k in range(a.steps)], axis=1)
    truth = np.stack([episodes[i].frames[t + 1:t + 1 + a.steps] for i, t in pairs])
    colors, background = envs.render_palette(), tuple(envs.render_scenery_colors().values())
    agent = AGENT_PALETTE_NAMES["white"]
    s = score(truth, generated, context[:, -1], colors, background, agent)
    rows = []
    for k in range(a.steps):
        lost, err = np.array(s["lost"][k], bool), np.array(s["error"][k])
        if not len(lost):
            rows.append({"step": k + 1, "pushed": 0})
            continue
        rows.append({"step": k + 1, "pushed": len(lost), "lost": round(float(lost.mean()), 4),
                     "error_px": round(float(err.mean()), 3),
                     "found_error_px": round(float(err[~lost].mean()), 3) if (~lost).any() else None,
                     "move_ratio": _ratio(s["moves"][k]), "agent_move_ratio": _ratio(s["agent_moves"][k]),
                     "repeat_last_px": round(float(np.mean(s["repeat"][k])), 3)})
        print(" ".join(f"{key} {value}" for key, value in rows[-1].items()))
    write_json(a.json, {"checkpoint": model.checkpoint_hash, "config": vars(a), "rollouts": len(pairs),
                        "by_step": rows})


if __name__ == "__main__":
    main()
