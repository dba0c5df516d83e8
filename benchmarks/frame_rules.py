"""How closely the tasks' reward rules, read off frames, follow MuJoCo's own reward, on MuJoCo's frames.

    .venv/bin/python benchmarks/frame_rules.py --episodes 20 --json outputs/frame_rules.json

For each task with a rule (:mod:`worldsim.envs.frame_rewards`), episodes of its MuJoCo scene run with
the scripted policy (even episodes) and random actions (odd ones). Every step, the rule reads the
rendered frame and its reward and termination are set beside the env's:

* ``corr``, ``mae``, ``spread``: correlation and mean absolute error of the rule's reward against the
  true one, and the true reward's standard deviation, over the steps where neither ends the episode;
* ``ends_true``, ``ends_same_step``, ``ends_early``, ``ends_missed``: episodes MuJoCo ends, those the
  rule ends at the same step, those it ends before MuJoCo does (a dreamed episode would stop there),
  and MuJoCo's ends it does not see.

On MuJoCo's frames the rule sees exactly what happened, so these figures bound how well it can pay a
policy in the dream; there, what is left is whether the imagined frames are right.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

from worldsim import envs  # noqa: F401  (registers WorldSim/*)
from worldsim.envs.frame_rewards import frame_reward
from worldsim.report import write_json

TASKS = ("WorldSim/Reach-v0", "WorldSim/PushBox-v0")


def follow(env_id: str, episodes: int, steps: int, seed: int) -> dict:
    """The rule of ``env_id`` against its env's reward over ``episodes`` episodes (see the module doc)."""
    rule, rng, env = frame_reward(env_id, 1), np.random.default_rng(seed), gym.make(env_id)
    true, read, ends = [], [], {"true": 0, "same_step": 0, "early": 0, "missed": 0}
    for episode in range(episodes):
        obs, info = env.reset(seed=seed + episode)
        rule.reset(np.arange(1), obs[None], [info["spec"]])
        first_read = None
        for t in range(steps):
            act = env.unwrapped.scripted_action(rng) if episode % 2 == 0 else env.action_space.sample()
            obs, reward, term, trunc, _ = env.step(act)
            got, done = rule.step(obs[None], act[None])
            if first_read is None and done[0]:
                first_read = t
            if not (term or done[0]):
                true.append(reward)
                read.append(got[0])
            if term or trunc:
                break
        ends["true"] += bool(term)
        ends["same_step"] += bool(term) and first_read == t
        ends["early"] += first_read is not None and (not term or first_read < t)
        ends["missed"] += bool(term) and first_read is None
    env.close()
    true, read = np.asarray(true), np.asarray(read)
    return {"episodes": episodes, "steps_compared": len(true), "corr": float(np.corrcoef(true, read)[0, 1]),
            "mae": float(np.abs(true - read).mean()), "spread": float(true.std()),
            **{f"ends_{k}": v for k, v in ends.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), help="ground-truth env ids with a frame rule")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--steps", type=int, default=100, help="step cap per episode")
    parser.add_argument("--seed", type=int, default=7000, help="episode i is reset with seed + i")
    parser.add_argument("--json", default=None, help="write the figures here")
    a = parser.parse_args()
    out = {task: follow(task, a.episodes, a.steps, a.seed) for task in a.tasks}
    for task, r in out.items():
        print(f"{task}: corr {r['corr']:.4f}, MAE {r['mae']:.4f} (spread {r['spread']:.3f}); MuJoCo ends "
              f"{r['ends_true']}, read at the same step {r['ends_same_step']}, early {r['ends_early']}, "
              f"missed {r['ends_missed']}")
    if a.json:
        write_json(a.json, out)


if __name__ == "__main__":
    main()
