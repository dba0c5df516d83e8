"""benchmarks/dream_rewards.py: the heads' pay set beside what the frames show."""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from dream_rewards import agent_goal_distance, score  # noqa: E402


def test_the_agent_goal_distance_shrinks_as_the_scripted_agent_reaches():
    from worldsim import envs  # noqa: F401  (registers WorldSim/*)

    env = gym.make("WorldSim/Reach-v0")
    obs, _ = env.reset(seed=3)
    frames, rng = [obs], np.random.default_rng(0)
    for _ in range(30):
        obs, _, terminated, _, _ = env.step(env.unwrapped.scripted_action(rng))
        frames.append(obs)
        if terminated:
            break
    env.close()
    d = agent_goal_distance(np.stack(frames))
    assert np.isfinite(d).all() and d[-1] < d[0] - 5
    assert np.isnan(agent_goal_distance(np.zeros((1, 64, 64, 3), np.uint8))).all()  # nothing to find


def test_score_counts_pay_against_progress():
    rewards = np.array([1.0, 2.0, 3.0, 10.0])
    terminated = np.array([False, False, False, True])
    progress = np.array([0.5, 1.0, np.nan, 0.2])
    distance = np.array([10.0, 9.0, np.nan, 1.0])
    s = score(rewards, terminated, progress, distance)
    assert s["steps"] == 4 and s["terminations"] == 1 and s["mean_reward"] == 4.0
    assert s["reward_progress_corr"] == pytest.approx(1.0)  # two steps found, both paid with their progress
    assert s["progress_px"] == pytest.approx(np.mean([0.5, 1.0, 0.2]))
    assert s["distance_px_at_terminations"] == [1.0, 1.0, 1.0] and s["found"] == 0.75
