"""MuJoCo as the teacher of the model's own rollouts: the physically right next frame from frames the
model drew itself.

Trained only on true clips, the model never sees the frames it makes itself; in a long rollout its
small errors become its context, and it was never taught what to do from there (objects fade, glides
stop). Asking it for the *true* future from its own context does not work either: after a few of its
own steps that future is no longer predictable from what it drew. This teacher asks for what *is*
predictable: it reads the scene off the model's frames (each body found by its colour, its velocity
from the last two frames), puts that scene into MuJoCo, applies the step's action and renders the
result. A body the model lost is put back where it was last seen (carried on at the velocity it had
then), so the teacher's frame holds every object of the episode.

    teacher = PhysicsTeacher()
    frame = teacher.next_frame("WorldSim/PushBox-v0", spec, own_frames, action)  # (64, 64, 3) or None

It returns None where the frames cannot be read as a scene MuJoCo can step (two bodies drawn on top
of each other).

Given the recorded state of the episode at the last frame (``recorded=``, rows of (x, y, vx, vy)), the
teacher takes each body's velocity from it and the position only from the model's frames: a glide the
model has slowed is taught to go on at its true speed from where the model drew it, and a body the model
lost comes back where MuJoCo has it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np

from worldsim import metrics
from worldsim.envs.scene import (
    AGENT_PALETTE_NAMES,
    CONTROL_DT,
    SceneSpec,
    footprint_half,
    pixel_to_world,
    pixels_per_metre,
    render_palette,
    render_scenery_colors,
)

OVERLAP = 0.8
"""Two bodies closer than this share of the sum of their half-sizes are drawn on top of each other:
the teacher abstains rather than have MuJoCo push them apart."""


def _colour_names(spec: SceneSpec) -> list[str]:
    """The detector's colour name of each body, agents first (as ``object_states`` orders them)."""
    return [AGENT_PALETTE_NAMES[a.color] for a in spec.agents] + [o.color for o in spec.objects]


def find_bodies(spec: SceneSpec, frames: np.ndarray) -> np.ndarray:
    """Each body's centroid ``(T, n, 2)`` in ``frames`` ``(T, H, W, 3)`` (NaN where it is not found)."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    palette = render_palette()
    return metrics.detect_objects(frames, {n: palette[n] for n in _colour_names(spec)},
                                  background=list(render_scenery_colors().values())).centroids


def estimate_state(spec: SceneSpec, frames: np.ndarray, dt: float = CONTROL_DT) -> tuple[np.ndarray, np.ndarray]:
    """Read each body's position and velocity off the last of ``frames``.

    Args:
        spec: The episode's scene: which bodies there are, their colours, shapes and sizes.
        frames: uint8 ``(T, H, W, 3)``, oldest first; the last one is read.
        dt: Seconds between frames.

    Returns:
        ``states`` float64 ``(n, 4)`` rows of (x, y, vx, vy) in metres and m/s, agents first, and
        ``seen`` bool ``(n,)``: the body is in the last frame. A velocity is read from the last two
        frames in a row that show the body. A body missing from the last frame (under the slab, or lost
        by the model) has gone on at the velocity it last had from where it was last seen, or sits there
        when it was at rest; one never seen sits where the spec starts it.
    """
    return _state_from(spec, find_bodies(spec, frames), dt)


def _state_from(spec: SceneSpec, found: np.ndarray, dt: float,
                recorded: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`estimate_state` from the bodies' centroids ``(T, n, 2)`` found in the frames. With the
    ``recorded`` state ``(n, 4)`` at the last frame, the velocities are the recorded ones, and a body missing
    from the last frame sits at its recorded position."""
    start = np.array([b.pos for b in (*spec.agents, *spec.objects)], dtype=float)  # (n, 2)
    states = np.zeros((len(start), 4))
    visible = ~np.isnan(found[..., 0])  # (T, n)
    if recorded is not None:
        recorded = np.asarray(recorded, dtype=float)
        if recorded.shape != states.shape:
            raise ValueError(f"recorded state must be (n_bodies, 4) = {states.shape}, got {recorded.shape}")
        states[:] = recorded
        seen = visible[-1]
        states[seen, :2] = pixel_to_world(spec, found[-1, seen])
        return states, seen
    for k in range(len(start)):
        seen_at = np.flatnonzero(visible[:, k])
        if not len(seen_at):
            states[k, :2] = start[k]
            continue
        t = seen_at[-1]
        states[k, :2] = pixel_to_world(spec, found[t, k])
        if t > 0 and visible[t - 1, k]:
            states[k, 2:] = (states[k, :2] - pixel_to_world(spec, found[t - 1, k])) / dt
        states[k, :2] += states[k, 2:] * dt * (len(found) - 1 - t)  # gone on since it was last seen
    return states, visible[-1]


def scene_at(spec: SceneSpec, states: np.ndarray) -> SceneSpec | None:
    """``spec`` with its bodies moved to ``states`` ``(n, 4)`` (kept inside the walls); None when two
    bodies would overlap."""
    bodies = [*spec.agents, *spec.objects]
    half = np.array([footprint_half(b) for b in bodies])  # (n,)
    inner = spec.arena.half_size - half  # (n,) the farthest a body's centre gets from the middle
    xy = np.clip(states[:, :2], -inner[:, None], inner[:, None])  # (n, 2)
    gap = np.linalg.norm(xy[:, None] - xy[None], axis=-1)  # (n, n)
    reach = OVERLAP * (half[:, None] + half[None])
    np.fill_diagonal(gap, np.inf)
    if (gap < reach).any():
        return None
    moved = [dataclasses.replace(b, pos=(float(x), float(y)), vel=(float(vx), float(vy)))
             for b, (x, y), (vx, vy) in zip(bodies, xy, states[:, 2:])]
    n = len(spec.agents)
    return dataclasses.replace(spec, agents=moved[:n], objects=moved[n:])


class PhysicsTeacher:
    """The next frame MuJoCo renders from the scene read off the last frames. One env per env id is kept
    and reset onto each scene, so a call costs a few resets, a step and their renders.

    A tall body's centroid in a frame is not quite above its centre (the camera sees its sides), so the
    scene read off a frame is rendered once more and each body moved by what its drawn centroid is off
    (``refine`` times): the teacher's frame then shows the bodies where the frame read shows them,
    rather than drifting by that offset at every step."""

    def __init__(self, refine: int = 2) -> None:
        self._envs: dict[str, gym.Env] = {}
        self.refine = refine

    def read_scene(self, env_id: str, spec: SceneSpec | dict[str, Any], frames: np.ndarray,
                   recorded: np.ndarray | None = None) -> SceneSpec | None:
        """The scene the last of ``frames`` ``(T, H, W, 3)`` shows, in ``spec``'s bodies; None when it
        cannot be read as one (see :func:`scene_at`). ``recorded`` ``(n, 4)``: the episode's state at the
        last frame, whose velocities are taken (see the module's docstring)."""
        spec = spec if isinstance(spec, SceneSpec) else SceneSpec.from_dict(spec)
        found = find_bodies(spec, frames)  # (T, n, 2)
        states, seen = _state_from(spec, found, CONTROL_DT, recorded)
        target = found[-1]  # (n, 2)
        for _ in range(self.refine):
            scene = scene_at(spec, states)
            if scene is None:
                return None
            drawn = find_bodies(spec, self._env(env_id).reset(options={"spec": scene})[0][None])[0]  # (n, 2)
            off = np.where(seen[:, None] & ~np.isnan(drawn), target - drawn, 0.0)  # (n, 2) px
            states[:, :2] += off * np.array([1.0, -1.0]) / pixels_per_metre(spec)
        return scene_at(spec, states)

    def _env(self, env_id: str) -> gym.Env:
        env = self._envs.get(env_id)
        if env is None:
            env = self._envs[env_id] = gym.make(env_id, disable_env_checker=True)
        return env

    def next_frame(self, env_id: str, spec: SceneSpec | dict[str, Any], frames: np.ndarray,
                   action: np.ndarray, recorded: np.ndarray | None = None) -> np.ndarray | None:
        """The frame after ``action`` from the scene the last of ``frames`` ``(T, H, W, 3)`` shows
        (uint8 ``(H, W, 3)``), or None when it cannot be read as a scene (see :func:`scene_at`). An action
        zero-padded to a model's width is cut to the env's. ``recorded``: see :meth:`read_scene`."""
        scene = self.read_scene(env_id, spec, frames, recorded)
        if scene is None:
            return None
        env = self._env(env_id)
        env.reset(options={"spec": scene})
        action = np.asarray(action, dtype=np.float32)
        size = env.action_space.shape[0]
        if action[size:].any():
            raise ValueError(f"{env_id} takes {size} action values; the rest of {action} must be the zero padding")
        return env.step(action[:size])[0]

    def close(self) -> None:
        for env in self._envs.values():
            env.close()
        self._envs.clear()
