"""Does the dream pay a policy for what its frames show? The reward heads against the imagined frames.

    .venv/bin/python benchmarks/dream_rewards.py --checkpoint runs/reach_fh/model \
        --policy runs/dream_to_real/reach/dream/seed0/policy.safetensors --json outputs/dream_rewards.json

A policy (a policy file of ``agents/ppo.py``, an SB3 PPO zip, or ``random``) acts in
``WorldSim/Reach-Learned-v0`` started from recorded steps of ``--dataset``, as in training. In every
imagined frame the agent and the goal patch are found by their colours (the detector of ``worldsim
check``), and each step's reward and termination from the model's heads are set beside what the
frames show:

* ``progress_px``: how much closer to the goal's centre the agent came in the step, in pixels (Reach
  pays 10 per metre of progress and 10 on arrival);
* ``reward_progress_corr``: the correlation of the heads' reward with that progress, over steps that
  did not terminate;
* ``distance_px_at_terminations`` and ``distance_px_elsewhere``: the agent-goal distance at the steps
  the heads end the episode, and at the others (10th, 50th and 90th percentiles).

A policy that has learnt to please the reward heads gets a high ``mean_reward`` with no progress.
Loading a policy zip unpickles it: give it only zips you trust.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

from worldsim.diffusion import SamplerConfig
from worldsim.envs.frame_rewards import find_agent_and_goal
from worldsim.report import write_json
from worldsim.simulator import SimulatorConfig


def agent_goal_distance(frames: np.ndarray) -> np.ndarray:
    """Pixels between the agent's and the goal patch's centroids in frames ``(N, H, W, 3)``; NaN where
    either is not found."""
    c = find_agent_and_goal(frames)
    return np.linalg.norm(c[:, 0] - c[:, 1], axis=-1)


def score(rewards: np.ndarray, terminated: np.ndarray, progress: np.ndarray, distance: np.ndarray) -> dict:
    """The figures of the module docstring from per-step arrays (NaN progress or distance: not found)."""
    percentiles = lambda x: [round(float(v), 2) for v in np.nanpercentile(x, [10, 50, 90])] \
        if np.isfinite(x).any() else None  # noqa: E731
    moving = np.isfinite(progress) & ~terminated
    r, p = rewards[moving], progress[moving]
    corr = float(np.corrcoef(r, p)[0, 1]) if len(r) > 1 and r.std() > 0 and p.std() > 0 else None
    return {"steps": int(rewards.size), "mean_reward": float(rewards.mean()),
            "terminations": int(terminated.sum()), "progress_px": float(np.nanmean(progress)),
            "reward_progress_corr": corr, "found": float(np.isfinite(progress).mean()),
            "distance_px_at_terminations": percentiles(distance[terminated]),
            "distance_px_elsewhere": percentiles(distance[~terminated])}


def run(checkpoint: str, policy: str, dataset: list[str], envs_n: int, steps: int, horizon: int,
        sampling_steps: int, seed: int) -> dict:
    """Step ``envs_n`` imagined episodes ``steps`` times with ``policy`` and score the heads' pay."""
    venv = gym.make_vec("WorldSim/Reach-Learned-v0", num_envs=envs_n, vectorization_mode="vector_entry_point",
                        checkpoint=checkpoint, sim=SimulatorConfig(sampler=SamplerConfig(steps=sampling_steps)),
                        max_episode_steps=horizon, dataset=tuple(dataset), burn_in=4)
    venv.action_space.seed(seed)
    from worldsim.agents.evaluate import load_policy

    model = load_policy(policy, device="cpu")  # None for random
    obs, _ = venv.reset(seed=seed)
    before = agent_goal_distance(obs)
    rewards, terminated, progress, distance = [], [], [], []
    for _ in range(steps):
        act = venv.action_space.sample() if model is None else \
            model.predict(obs.transpose(0, 3, 1, 2), deterministic=False)[0]
        obs, r, term, trunc, info = venv.step(act)
        shown = obs.copy()  # the frame each step ended on, before an episode's restart replaced it
        for i in np.flatnonzero(term | trunc):
            shown[i] = info["final_obs"][i]
        after = agent_goal_distance(shown)
        rewards.append(r), terminated.append(term), progress.append(before - after), distance.append(after)
        before = agent_goal_distance(obs)
    venv.close()
    return score(*(np.concatenate(x) for x in (rewards, terminated, progress, distance)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", required=True, help="a Reach world model with reward heads")
    p.add_argument("--policy", default="random", help="a .safetensors policy file, an SB3 PPO zip, or 'random'")
    p.add_argument("--dataset", nargs="+", default=["data/reach/scripted", "data/reach/random"])
    p.add_argument("--envs", type=int, default=32)
    p.add_argument("--steps", type=int, default=64, help="steps of every env")
    p.add_argument("--horizon", type=int, default=16)
    p.add_argument("--sampling-steps", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default="outputs/dream_rewards.json")
    a = p.parse_args()
    report = {"config": vars(a), **run(a.checkpoint, a.policy, a.dataset, a.envs, a.steps, a.horizon,
                                       a.sampling_steps, a.seed)}
    write_json(a.json, report)
    print({k: v for k, v in report.items() if k != "config"})


if __name__ == "__main__":
    main()
