"""Rewards and terminations read off the frames, for learned envs whose heads cannot be trusted with them.

A learned env pays what its reward heads predict. Where a task's reward is a plain function of where
things are, and the frames show where they are, that function can be applied to the imagined frames
instead: ``gymnasium.make_vec("WorldSim/Reach-Learned-v0", ..., reward="frames")``. The rule for Reach
finds the agent and the goal patch by their rendered colours (the detector of ``worldsim check``) and
pays as :class:`~worldsim.envs.ground_truth.ReachEnv` does, in metres: progress towards the goal's
centre, the action's cost, and the arrival bonus, which also ends the episode.

A rule is an object with ``reset(rows, frames)``, called with the first frame of every episode that
starts (rows of a vector env), and ``step(frames, actions) -> (rewards, terminated)`` for all rows;
:func:`frame_reward` builds the one a scene has.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from worldsim import metrics
from worldsim.envs.ground_truth import REACH_CTRL_WEIGHT, REACH_PROGRESS_WEIGHT, REACH_SUCCESS_BONUS
from worldsim.envs.scene import GOAL_HALF_SIZE, pixels_per_metre, render_palette, render_scenery_colors


class FrameReward(Protocol):
    """Reward and termination of every row of a (vector) env from the frames it shows."""

    def reset(self, rows: np.ndarray, frames: np.ndarray) -> None:
        """Episodes start in ``rows`` on ``frames`` ``(len(rows), H, W, 3)``."""

    def step(self, frames: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float64 rewards and bool terminations ``(num_envs,)`` for the step that showed ``frames``."""


def find_agent_and_goal(frames: np.ndarray) -> np.ndarray:
    """Centroids ``(N, 2, 2)``, (col, row) pixels, of the agent and the goal patch in frames ``(N, H, W, 3)``,
    found by their rendered colours; NaN where one is not found."""
    scenery = render_scenery_colors()
    colors = {"agent": render_palette()["agent"], "goal": scenery["goal"]}
    background = tuple(v for k, v in scenery.items() if k != "goal")
    return metrics.detect_objects(frames, colors, background=background, min_pixels=2).centroids


class ReachFromFrames:
    """Reach's reward, read off the frames: ``progress_weight`` per metre the agent's centroid came
    closer to the goal patch's centre, minus ``ctrl_weight * |action|^2``, plus ``success_bonus`` when
    the centroid is inside the goal square, which ends the episode.

    The goal's centre is read once, from each episode's first frame (a recorded or MuJoCo frame): the
    goal does not move, and the agent covers it on arrival. A step whose frame shows no agent pays the
    action's cost only and keeps the last distance.

    Args:
        num_envs: Rows of the env.
        progress_weight, ctrl_weight, success_bonus: As :class:`~worldsim.envs.ground_truth.ReachEnv`'s.
    """

    def __init__(self, num_envs: int, progress_weight: float = REACH_PROGRESS_WEIGHT,
                 ctrl_weight: float = REACH_CTRL_WEIGHT, success_bonus: float = REACH_SUCCESS_BONUS):
        self.progress_weight, self.ctrl_weight, self.success_bonus = progress_weight, ctrl_weight, success_bonus
        self.goal = np.full((num_envs, 2), np.nan)  # (col, row) pixels
        self.distance = np.full(num_envs, np.nan)  # metres
        self._metres_per_pixel = 1.0 / pixels_per_metre()
        self._goal_half_px = GOAL_HALF_SIZE * pixels_per_metre()

    def reset(self, rows: np.ndarray, frames: np.ndarray) -> None:
        found = find_agent_and_goal(frames)
        self.goal[rows] = found[:, 1]
        self.distance[rows] = np.linalg.norm(found[:, 0] - found[:, 1], axis=-1) * self._metres_per_pixel

    def step(self, frames: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        agent = find_agent_and_goal(frames)[:, 0]
        seen = ~np.isnan(agent[:, 0]) & ~np.isnan(self.goal[:, 0])
        distance = np.where(seen, np.linalg.norm(agent - self.goal, axis=-1) * self._metres_per_pixel,
                            self.distance)
        progress = np.nan_to_num(self.distance - distance)  # 0 where either distance is unknown
        self.distance = distance
        arrived = seen & np.all(np.abs(agent - self.goal) <= self._goal_half_px, axis=-1)
        ctrl = (np.asarray(actions, dtype=np.float64).reshape(len(frames), -1) ** 2).sum(-1)
        rewards = self.progress_weight * progress - self.ctrl_weight * ctrl + self.success_bonus * arrived
        return rewards, arrived


_RULES = {"WorldSim/Reach-v0": ReachFromFrames}


def frame_reward(scene: str, num_envs: int) -> FrameReward:
    """The frame reward rule of ``scene`` (a ground-truth scene id), for ``num_envs`` rows."""
    if scene not in _RULES:
        raise ValueError(f"{scene} has no reward read off the frames (scenes with one: {', '.join(_RULES)}); "
                         "use reward='heads'")
    return _RULES[scene](num_envs)


__all__ = ["FrameReward", "ReachFromFrames", "find_agent_and_goal", "frame_reward"]
