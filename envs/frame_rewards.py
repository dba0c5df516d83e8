"""Rewards and terminations read off the frames, for learned envs whose heads cannot be trusted with them.

A learned env pays what its reward heads predict. Where a task's reward is a plain function of where
things are, and the frames show where they are, that function can be applied to the imagined frames
instead: ``gymnasium.make_vec("WorldSim/Reach-Learned-v0", ..., reward="frames")``. The rule for Reach
finds the agent and the goal patch by their rendered colours (the detector of ``worldsim check``) and
pays as :class:`~worldsim.envs.ground_truth.ReachEnv` does, in metres: progress towards the goal's
centre, the action's cost, and the arrival bonus, which also ends the episode. The rule for PushBox
finds the agent and the box to push by colour (the box's colour and the goal's place come from the
episode's scene spec) and pays as :class:`~worldsim.envs.ground_truth.PushBoxEnv` does: the box's
distance to the goal and the agent's to the box as costs, the action's cost, and the bonus when the
box's centre is on the goal square, which ends the episode.

A rule is an object with ``reset(rows, frames, specs)``, called with the first frame of every episode
that starts (rows of a vector env) and its scene spec (a dict as in ``info["spec"]``, or None where the
start has none), and ``step(frames, actions) -> (rewards, terminated)`` for all rows;
:func:`frame_reward` builds the one a scene has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from worldsim import metrics
from worldsim.envs.ground_truth import (
    PUSHBOX_CTRL_WEIGHT,
    PUSHBOX_DIST_WEIGHT,
    PUSHBOX_NEAR_WEIGHT,
    PUSHBOX_SUCCESS_BONUS,
    REACH_CTRL_WEIGHT,
    REACH_PROGRESS_WEIGHT,
    REACH_SUCCESS_BONUS,
)
from worldsim.envs.scene import (
    AGENT_PALETTE_NAMES,
    GOAL_HALF_SIZE,
    PALETTE,
    SceneSpec,
    pixels_per_metre,
    render_palette,
    render_scenery_colors,
    world_to_pixel,
)


class FrameReward(Protocol):
    """Reward and termination of every row of a (vector) env from the frames it shows."""

    def reset(self, rows: np.ndarray, frames: np.ndarray, specs: Sequence[dict[str, Any] | None]) -> None:
        """Episodes start in ``rows`` on ``frames`` ``(len(rows), H, W, 3)``, in the scenes ``specs``."""

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

    def reset(self, rows: np.ndarray, frames: np.ndarray, specs: Sequence[dict[str, Any] | None] = ()) -> None:
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


#: The colours :func:`find_objects` reports, in the order of its columns (those of ``render_palette()``):
#: every object colour, then the agents.
FOUND = (*PALETTE, *AGENT_PALETTE_NAMES.values())


def find_objects(frames: np.ndarray) -> np.ndarray:
    """Centroids ``(N, len(FOUND), 2)``, (col, row) pixels, of each colour of :data:`FOUND` in frames
    ``(N, H, W, 3)``, found as ``worldsim check`` finds objects; NaN where one is not found."""
    return metrics.detect_objects(frames, render_palette(), background=tuple(render_scenery_colors().values()),
                                  min_pixels=2).centroids


class PushBoxFromFrames:
    """PushBox's reward, read off the frames: ``-dist_weight`` per metre between the box's centroid and
    the goal's centre, ``-near_weight`` per metre between the agent's and the box's, minus
    ``ctrl_weight * |action|^2``, plus ``success_bonus`` when the box's centroid is on the goal square,
    which ends the episode.

    Which box to push and where the goal is come from each episode's scene spec (the task's object and
    its colour, the goal's centre); the box is found by that colour. A step whose frame does not show
    the agent or the box keeps where it was last seen.

    Args:
        num_envs: Rows of the env.
        dist_weight, near_weight, ctrl_weight, success_bonus: As :class:`~worldsim.envs.ground_truth.PushBoxEnv`'s.
    """

    def __init__(self, num_envs: int, dist_weight: float = PUSHBOX_DIST_WEIGHT,
                 near_weight: float = PUSHBOX_NEAR_WEIGHT, ctrl_weight: float = PUSHBOX_CTRL_WEIGHT,
                 success_bonus: float = PUSHBOX_SUCCESS_BONUS):
        self.dist_weight, self.near_weight = dist_weight, near_weight
        self.ctrl_weight, self.success_bonus = ctrl_weight, success_bonus
        self.target = np.zeros(num_envs, dtype=int)  # column of the box in find_objects
        self.goal = np.full((num_envs, 2), np.nan)  # (col, row) pixels
        self.goal_half = np.zeros(num_envs)  # pixels
        self.agent = np.full((num_envs, 2), np.nan)
        self.box = np.full((num_envs, 2), np.nan)
        self._metres_per_pixel = 1.0 / pixels_per_metre()

    def reset(self, rows: np.ndarray, frames: np.ndarray, specs: Sequence[dict[str, Any] | None] = ()) -> None:
        if len(specs) != len(rows) or any(s is None for s in specs):
            raise ValueError("PushBox's reward read off the frames needs each episode's scene spec (which box to "
                             "push, where the goal is); start episodes from MuJoCo or from episode stores that "
                             "recorded it, or use reward='heads'")
        for row, raw in zip(rows, specs):
            spec = raw if isinstance(raw, SceneSpec) else SceneSpec.from_dict(raw)
            if spec.task is None or spec.task.object is None or spec.goal is None:
                raise ValueError(f"the scene of row {row} has no box to push into a goal, which PushBox's frame "
                                 "reward needs; a prompt names one as in 'the agent pushes the red box into the "
                                 "goal'")
            self.target[row] = FOUND.index(spec.objects[spec.task.object].color)
            self.goal[row] = world_to_pixel(spec, spec.goal.center) + 0.5  # the detector's pixel centres
            self.goal_half[row] = spec.goal.half_size * pixels_per_metre(spec)
        self.agent[rows], self.box[rows] = np.nan, np.nan
        self._see(rows, frames)

    def _see(self, rows: np.ndarray, frames: np.ndarray) -> np.ndarray:
        """Update where the agent and the box are seen in ``rows``; True where the box is seen now."""
        found = find_objects(frames)
        agent, box = found[:, FOUND.index("agent")], found[np.arange(len(rows)), self.target[rows]]
        self.agent[rows] = np.where(np.isnan(agent), self.agent[rows], agent)
        self.box[rows] = np.where(np.isnan(box), self.box[rows], box)
        return ~np.isnan(box[:, 0])

    def step(self, frames: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(len(frames))
        seen = self._see(rows, frames)
        dist = np.nan_to_num(np.linalg.norm(self.box - self.goal, axis=-1)) * self._metres_per_pixel
        near = np.nan_to_num(np.linalg.norm(self.agent - self.box, axis=-1)) * self._metres_per_pixel
        on_goal = seen & np.all(np.abs(self.box - self.goal) <= self.goal_half[:, None], axis=-1)
        ctrl = (np.asarray(actions, dtype=np.float64).reshape(len(frames), -1) ** 2).sum(-1)
        rewards = (-self.dist_weight * dist - self.near_weight * near - self.ctrl_weight * ctrl
                   + self.success_bonus * on_goal)
        return rewards, on_goal


_RULES = {"WorldSim/Reach-v0": ReachFromFrames, "WorldSim/PushBox-v0": PushBoxFromFrames,
          "WorldSim/PushBoxHeavy-v0": PushBoxFromFrames}


def frame_reward(scene: str, num_envs: int) -> FrameReward:
    """The frame reward rule of ``scene`` (a ground-truth scene id), for ``num_envs`` rows."""
    if scene not in _RULES:
        raise ValueError(f"{scene} has no reward read off the frames (scenes with one: {', '.join(_RULES)}); "
                         "use reward='heads'")
    return _RULES[scene](num_envs)


__all__ = ["FOUND", "FrameReward", "PushBoxFromFrames", "ReachFromFrames", "find_agent_and_goal", "find_objects",
           "frame_reward"]
