"""MuJoCo ground-truth Gymnasium envs: Playground, PushBox, Occlusion, TwoAgents and Reach.

Each env keeps one ``MjModel`` for its whole life, and one 64x64 ``mujoco.Renderer`` made on the
first frame (so an env built in a parent process can be forked or pickled into workers, each of
which makes its own). Every scene
is compiled from ``SceneSpec.to_mjcf(slots=MAX_OBJECTS)``, which gives all scenes of an env the
same model layout (unused object slots, slab and goal are hidden), and its parameters are copied
into the live model on ``reset``. Control runs at 10 Hz: one ``step`` is ``FRAME_SKIP`` physics
steps followed by one render, and the observation is that frame.

``reset(seed=..., options=...)`` samples a scene of the env's family from the seeded generator,
or takes ``options={"spec": SceneSpec | dict}`` (e.g. ``info["spec"]`` of an earlier episode) or
``options={"prompt": "a red box and a blue ball"}`` (parsed with a seed drawn from the reset seed).

``info`` holds ``"caption"``, ``"spec"`` (JSON-safe dict), ``"objects"`` (name, color, shape, world
``pos``, pixel ``pos_px`` as (col, row), ``visible``, ``visible_frac``) and ``"agents"``; PushBox
and Reach add their reward terms (``reward == sum of info["reward_*"]``), ``"distance"`` and
``"is_success"``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from worldsim.envs.actions import check_action, check_options
from worldsim.envs.caption import caption
from worldsim.envs.prompt import parse_prompt
from worldsim.envs.scene import (
    AGENT_COLORS,
    AGENT_RADIUS,
    FRAME_SKIP,
    GOAL_HALF_SIZE,
    IMAGE_SIZE,
    MAX_OBJECTS,
    REACH_MIN_START,
    AgentSpec,
    Body,
    GoalSpec,
    SceneSpec,
    TaskSpec,
    direction_vector,
    footprint_half,
    place,
    slab_cover_fraction,
    world_to_pixel,
)

StepResult = tuple[np.ndarray, float, bool, bool, dict[str, Any]]
_RESET_OPTIONS = ("spec", "prompt")
_STAT_FIELDS = ("meaninertia", "meanmass", "meansize", "extent")


# --------------------------------------------------------------------------------------------
# Scripted policy
# --------------------------------------------------------------------------------------------


@dataclass
class ScriptedPolicyConfig:
    """Gains and noise of the scripted pusher (forces are in action units, distances in metres)."""

    kp: float = 5.0  # action per metre of position error
    kd: float = 1.0  # action per m/s of agent velocity (damping)
    noise: float = 0.15  # std of Gaussian action noise
    standoff: float = 0.05  # gap kept behind the object before pushing
    replan_steps: tuple[int, int] = (15, 40)  # a random push lasts this many steps (playground)
    push_area: float = 0.6  # random push targets lie in [-push_area, push_area]^2 (x arena half size)


class ScriptedPolicy:
    """Per-agent pusher: walk around an object to stand behind it, then push it along a direction.

    The direction comes from the scene's task (a fixed direction, or towards the goal), or, for
    random play, towards a random point of the arena, re-drawn every few steps. With nothing to
    push the agent wanders between random points.

    Args:
        spec: The scene.
        protected: Objects never chosen for random pushes (Occlusion keeps the crossing one untouched).
        area: ``(xmin, xmax, ymin, ymax)`` of the random points; the central part of the arena
            (``config.push_area``) when None.
        config: Gains and noise.
    """

    def __init__(
        self,
        spec: SceneSpec,
        protected: tuple[int, ...] = (),
        area: tuple[float, float, float, float] | None = None,
        config: ScriptedPolicyConfig | None = None,
    ):
        self.spec = spec
        self.cfg = config or ScriptedPolicyConfig()
        half = self.cfg.push_area * spec.arena.half_size
        self.area = np.array(area if area is not None else (-half, half, -half, half)).reshape(
            2, 2
        )  # rows: x, y
        self.targets = [j for j in range(len(spec.objects)) if j not in protected]
        n = len(spec.agents)
        self._obj = [-1] * n  # current target object per agent (-1: none yet)
        self._point = [np.zeros(2)] * n  # random push target / wander point per agent
        self._left = [0] * n  # steps left in the current random push

    def act(self, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Actions for all agents, concatenated: float32 ``[2 * n_agents]`` in [-1, 1].

        Args:
            states: ``[n_agents + n_objects, 4]`` rows of (x, y, vx, vy), agents first.
            rng: Source of the policy's choices and noise.
        """
        n = len(self.spec.agents)
        out = [self._act_agent(k, states, rng) for k in range(n)]
        return np.concatenate(out).astype(np.float32)  # (2 n,)

    def _plan(self, k: int, states: np.ndarray, rng: np.random.Generator) -> tuple[int, np.ndarray | None]:
        n, spec, cfg = len(self.spec.agents), self.spec, self.cfg
        task = spec.task
        if task is not None and task.agent == k and task.reach:
            self._point[k] = np.asarray(spec.goal.center, dtype=np.float64)
            return -1, None
        if task is not None and task.agent == k:
            obj = states[n + task.object, :2]
            if task.direction is not None:
                return task.object, direction_vector(task.direction)
            d = np.asarray(spec.goal.center) - obj
            return task.object, d / max(float(np.linalg.norm(d)), 1e-6)
        lo, hi = self.area[:, 0], self.area[:, 1]
        if not self.targets:  # wander
            if self._left[k] <= 0 or np.linalg.norm(states[k, :2] - self._point[k]) < 0.1:
                self._point[k] = rng.uniform(lo, hi)
                self._left[k] = int(rng.integers(*cfg.replan_steps))
            self._left[k] -= 1
            return -1, None
        j = self._obj[k]
        if j < 0 or self._left[k] <= 0 or np.linalg.norm(states[n + j, :2] - self._point[k]) < 0.15:
            self._obj[k] = j = int(rng.choice(self.targets))
            self._point[k] = rng.uniform(lo, hi)
            self._left[k] = int(rng.integers(*cfg.replan_steps))
        self._left[k] -= 1
        d = self._point[k] - states[n + j, :2]
        return j, d / max(float(np.linalg.norm(d)), 1e-6)

    def _act_agent(self, k: int, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        cfg, n = self.cfg, len(self.spec.agents)
        agent, vel = states[k, :2], states[k, 2:]
        j, d = self._plan(k, states, rng)
        if d is None:
            waypoint = self._point[k]
        else:
            obj = states[n + j, :2]
            reach = footprint_half(self.spec.objects[j]) * 1.2 + AGENT_RADIUS  # centre distance at contact
            rel = agent - obj
            along = float(rel @ d)
            lateral = rel - along * d
            lat = float(np.linalg.norm(lateral))
            if along < -0.5 * reach and lat < 0.35 * reach:  # lined up behind: push through
                waypoint = obj + 0.3 * d
            elif along > -0.5 * reach and lat < reach + 0.05:  # in front or beside: go round
                side = lateral / lat if lat > 1e-6 else np.array([-d[1], d[0]]) * rng.choice([-1.0, 1.0])
                waypoint = obj + side * (reach + 0.15) - d * 0.5 * reach
            else:
                waypoint = obj - d * (reach + cfg.standoff)
        u = cfg.kp * (waypoint - agent) - cfg.kd * vel  # (2,)
        u = u / max(1.0, float(np.linalg.norm(u)))
        return np.clip(u + rng.normal(0.0, cfg.noise, size=2), -1.0, 1.0)


# --------------------------------------------------------------------------------------------
# Base env
# --------------------------------------------------------------------------------------------


class WorldSimEnv(gym.Env[np.ndarray, np.ndarray]):
    """Base class of the ground-truth scenes (see the module docstring for reset options and info).

    Observations are uint8 ``(64, 64, 3)`` top-down frames; actions are float32 2-D forces in
    [-1, 1] per agent, concatenated in agent order.

    Args:
        render_mode: "rgb_array" (``render()`` returns the last observation) or None.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 10}
    family: ClassVar[str] = "playground"
    n_agents: ClassVar[int] = 1
    env_id: ClassVar[str] = "WorldSim/Playground-v0"

    def __init__(self, render_mode: str | None = "rgb_array"):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r} is not supported by {self.env_id}; use rgb_array")
        self.render_mode = render_mode
        self._scene = SceneSpec.sample(np.random.default_rng(0), self.family)
        self.model = mujoco.MjModel.from_xml_string(self._scene.to_mjcf(slots=MAX_OBJECTS))
        self.data = mujoco.MjData(self.model)
        self._fields = [n for n in dir(self.model) if _is_array(self.model, n)]
        self._renderer: mujoco.Renderer | None = None  # made on the first frame
        self._closed = False
        names = [f"agent{i}" for i in range(self.n_agents)] + [f"object{j}" for j in range(MAX_OBJECTS)]
        jnt = [mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, f"{b}_x") for b in names]
        self._body = np.array([mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, b) for b in names])
        self._qadr = self.model.jnt_qposadr[jnt][:, None] + np.arange(2)  # (n_slots, 2)
        self._dadr = self.model.jnt_dofadr[jnt][:, None] + np.arange(2)  # (n_slots, 2)
        self.observation_space = spaces.Box(0, 255, (IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
        self.action_space = spaces.Box(-1.0, 1.0, (2 * self.n_agents,), dtype=np.float32)
        self._frame: np.ndarray | None = None
        self._policy = ScriptedPolicy(self._scene)
        self._caption = ""

    # ---- properties ------------------------------------------------------------------------

    @property
    def scene(self) -> SceneSpec:
        """The current scene spec."""
        return self._scene

    @property
    def spec_(self) -> SceneSpec:
        """Alias of :attr:`scene` (``spec`` is Gymnasium's EnvSpec)."""
        return self._scene

    # ---- Gymnasium API ---------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode on a sampled scene, or on ``options["spec"]`` or ``options["prompt"]``."""
        super().reset(seed=seed)
        self._load(self._complete(self._scene_from_options(options)))
        return self._render_frame(), self._info(self.object_states())

    def step(self, action: np.ndarray) -> StepResult:
        """Apply the forces for 0.1 s (``FRAME_SKIP`` physics steps) and render the next frame."""
        if self._frame is None:
            raise gym.error.ResetNeeded(f"call reset() before step() on {self.env_id}")
        a = self._check_action(action)
        self.data.ctrl[:] = a
        mujoco.mj_step(self.model, self.data, nstep=FRAME_SKIP)
        mujoco.mj_forward(self.model, self.data)  # positions of the final state, for rendering
        obs = self._render_frame()
        states = self.object_states()  # (n_bodies, 4)
        reward, terms = self._reward(a, states)
        info = self._info(states)
        info.update(terms)
        return obs, reward, self._terminated(states), False, info

    def render(self) -> np.ndarray | None:
        """The last observation (uint8 ``(64, 64, 3)``), or None when ``render_mode`` is None."""
        if self.render_mode is None:
            gym.logger.warn(f"render() on {self.env_id} with render_mode=None; pass render_mode='rgb_array'")
            return None
        return None if self._frame is None else self._frame.copy()

    def close(self) -> None:
        """Free the renderer (safe to call twice)."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self._closed = True

    def __getstate__(self) -> dict[str, Any]:
        """Pickle everything but the renderer (a GL context); the copy makes its own on its first frame."""
        state = self.__dict__.copy()
        state["_renderer"] = None
        return state

    # ---- public helpers ----------------------------------------------------------------------

    def object_states(self) -> np.ndarray:
        """float32 ``[n_agents + n_objects, 4]`` rows of (x, y, vx, vy) in metres and m/s, agents first."""
        n = self.n_agents + len(self._scene.objects)
        pos = self.model.body_pos[self._body[:n], :2] + self.data.qpos[self._qadr[:n]]  # (n, 2)
        vel = self.data.qvel[self._dadr[:n]]  # (n, 2)
        return np.concatenate([pos, vel], axis=1).astype(np.float32)  # (n, 4)

    def scripted_action(self, rng: np.random.Generator) -> np.ndarray:
        """A pushing policy for data collection: float32 ``[2 * n_agents]`` (see :class:`ScriptedPolicy`)."""
        return self._policy.act(self.object_states().astype(np.float64), rng)

    # ---- family hooks --------------------------------------------------------------------------

    def _complete(self, spec: SceneSpec) -> SceneSpec:
        """Check a requested scene against the env and fill in what the family needs."""
        if len(spec.agents) > self.n_agents:
            raise ValueError(
                f"the scene has {len(spec.agents)} agents but {self.env_id} has {self.n_agents}; "
                "use WorldSim/TwoAgents-v0 for two agents"
            )
        if len(spec.agents) < self.n_agents:
            placed = [Body.of(a) for a in spec.agents] + [Body.of(o) for o in spec.objects]
            agents = list(spec.agents)
            for color in list(AGENT_COLORS)[len(agents) : self.n_agents]:
                xy = place(self.np_random, spec.arena, AGENT_RADIUS, False, placed, avoid=spec.slab)
                if xy is None:
                    raise ValueError(f"no free space for a {color} agent in the requested scene")
                placed.append(Body(xy, AGENT_RADIUS, False))
                agents.append(AgentSpec(pos=(xy[0], xy[1]), color=color))
            spec = SceneSpec(agents, spec.objects, spec.arena, spec.slab, spec.goal, spec.task)
        return spec

    def _make_policy(self, spec: SceneSpec) -> ScriptedPolicy:
        return ScriptedPolicy(spec)

    def _place_goal(self, spec: SceneSpec, away_from: Any, min_distance: float) -> GoalSpec:
        """A goal square in the scene's free space, at least ``min_distance`` from ``away_from`` when
        50 draws find such a place (else the last free place drawn)."""
        placed = [Body.of(o) for o in spec.objects]
        for _ in range(50):
            g = place(self.np_random, spec.arena, GOAL_HALF_SIZE, True, placed)
            if g is not None and np.linalg.norm(g - np.asarray(away_from)) >= min_distance:
                break
        if g is None:
            raise ValueError(f"no free space for a goal in the requested scene for {self.env_id}")
        return GoalSpec(center=(g[0], g[1]))

    def _reward(self, action: np.ndarray, states: np.ndarray) -> tuple[float, dict[str, Any]]:
        return 0.0, {}

    def _terminated(self, states: np.ndarray) -> bool:
        return False

    # ---- internals -----------------------------------------------------------------------------

    def _scene_from_options(self, options: dict[str, Any] | None) -> SceneSpec:
        check_options(options, self.env_id)
        options = options or {}
        unknown = set(options) - set(_RESET_OPTIONS)
        if unknown:
            raise ValueError(
                f"unknown reset option(s) {sorted(unknown)} for {self.env_id}; "
                "use 'spec' (SceneSpec or its dict) or 'prompt' (str)"
            )
        if "spec" in options and "prompt" in options:
            raise ValueError("pass either options['spec'] or options['prompt'], not both")
        if options.get("spec") is not None:
            return SceneSpec.from_dict(options["spec"])
        if options.get("prompt") is not None:
            return parse_prompt(options["prompt"], seed=int(self.np_random.integers(2**31 - 1)))
        return SceneSpec.sample(self.np_random, self.family)

    def _load(self, spec: SceneSpec) -> None:
        new = mujoco.MjModel.from_xml_string(spec.to_mjcf(slots=MAX_OBJECTS))
        for name in self._fields:  # same layout: copy every parameter array into the live model
            getattr(self.model, name)[...] = getattr(new, name)
        for name in _STAT_FIELDS:
            setattr(self.model.stat, name, getattr(new.stat, name))
        self.model.stat.center[:] = new.stat.center
        mujoco.mj_resetDataKeyframe(self.model, self.data, 0)
        mujoco.mj_forward(self.model, self.data)
        self._scene = spec
        self._caption = caption(spec)
        self._policy = self._make_policy(spec)

    def _render_frame(self) -> np.ndarray:
        if self._closed:
            raise RuntimeError(f"{self.env_id} is closed; make a new env")
        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.model, IMAGE_SIZE, IMAGE_SIZE)
        self._renderer.update_scene(self.data, camera="top")
        self._frame = self._renderer.render()  # (64, 64, 3) uint8
        return self._frame.copy()

    def _check_action(self, action: Any) -> np.ndarray:
        return check_action(action, self.action_space, self.env_id)

    def _info(self, states: np.ndarray) -> dict[str, Any]:
        spec = self._scene
        px = world_to_pixel(spec, states[:, :2])  # (n, 2)
        bodies: list[dict[str, Any]] = []
        things = list(spec.agents) + list(spec.objects)
        names = [f"agent{i}" for i in range(len(spec.agents))] + spec.object_names()
        for i, thing in enumerate(things):
            hidden = slab_cover_fraction(spec.slab, states[i, :2], footprint_half(thing))
            entry = {"name": names[i], "color": thing.color}
            entry.update(pos=states[i, :2].tolist(), pos_px=px[i].tolist())
            if i >= len(spec.agents):
                entry["shape"] = thing.shape
            entry["visible"] = bool(hidden < 0.5)
            entry["visible_frac"] = float(1.0 - hidden)
            bodies.append(entry)
        n = len(spec.agents)
        return {
            "caption": self._caption,
            "spec": spec.to_dict(),  # fresh each call: callers may keep or modify it
            "objects": bodies[n:],
            "agents": bodies[:n],
        }


def _is_array(model: mujoco.MjModel, name: str) -> bool:
    if name.startswith("_"):
        return False
    try:
        value = getattr(model, name)
    except Exception:  # some attributes are methods or raise on access
        return False
    return isinstance(value, np.ndarray) and value.size > 0


# --------------------------------------------------------------------------------------------
# Scene families
# --------------------------------------------------------------------------------------------


class PlaygroundEnv(WorldSimEnv):
    """Random scenes (1-3 objects, sometimes a slab), zero reward, never terminates."""

    family = "playground"
    env_id = "WorldSim/Playground-v0"


class OcclusionEnv(WorldSimEnv):
    """An object glides under a slab and out the other side; zero reward, never terminates.

    The scripted policy leaves object 0 (the one that crosses) alone and keeps to the agent's side
    of the crossing lane.
    """

    family = "occlusion"
    env_id = "WorldSim/Occlusion-v0"

    def _make_policy(self, spec: SceneSpec) -> ScriptedPolicy:
        if spec.slab is None or not spec.objects:
            return ScriptedPolicy(spec)
        mover, slab, h = spec.objects[0], spec.slab, spec.arena.half_size
        across = 1 - int(np.argmax(np.abs(mover.vel)))  # the axis across the lane
        side = 1.0 if spec.agents[0].pos[across] > slab.center[across] else -1.0
        edge = slab.center[across] + side * (slab.half_size[across] + 0.25)
        band = sorted((edge, side * (h - 0.15)))
        area = [(-0.6 * h, 0.6 * h)] * 2
        area[across] = (band[0], band[1])
        return ScriptedPolicy(spec, protected=(0,), area=(*area[0], *area[1]))


class TwoAgentsEnv(WorldSimEnv):
    """A white and a pink agent and a box; action ``Box(-1, 1, (4,))`` = both forces; zero reward."""

    family = "twoagents"
    n_agents = 2
    env_id = "WorldSim/TwoAgents-v0"


PUSHBOX_DIST_WEIGHT = 1.0  # cost per metre between the box and the goal
PUSHBOX_NEAR_WEIGHT = 0.2  # cost per metre between the agent and the box
PUSHBOX_CTRL_WEIGHT = 0.05  # weight of the squared action
PUSHBOX_SUCCESS_BONUS = 10.0  # reward when the box reaches the goal


class PushBoxEnv(WorldSimEnv):
    """Push the task's box into the goal square.

    ``reward = reward_dist + reward_near + reward_ctrl + reward_success``, each term in ``info``:
    ``reward_dist = -dist_weight * |box - goal|``, ``reward_near = -near_weight * |agent - box|``,
    ``reward_ctrl = -ctrl_weight * |action|^2`` and ``reward_success = success_bonus`` once the box
    centre is inside the goal square, which also terminates the episode.

    Args:
        render_mode: See :class:`WorldSimEnv`.
        dist_weight: Weight of the box-goal distance (per metre).
        near_weight: Weight of the agent-box distance (per metre).
        ctrl_weight: Weight of the squared action.
        success_bonus: Reward on the step the box reaches the goal.
    """

    family = "pushbox"
    env_id = "WorldSim/PushBox-v0"
    #: Every object's mass is multiplied by this (its drag scales with it, so a free object coasts as
    #: far; only contacts feel the difference).
    mass_scale: ClassVar[float] = 1.0

    def __init__(
        self,
        render_mode: str | None = "rgb_array",
        *,
        dist_weight: float = PUSHBOX_DIST_WEIGHT,
        near_weight: float = PUSHBOX_NEAR_WEIGHT,
        ctrl_weight: float = PUSHBOX_CTRL_WEIGHT,
        success_bonus: float = PUSHBOX_SUCCESS_BONUS,
    ):
        super().__init__(render_mode=render_mode)
        self.dist_weight, self.near_weight = dist_weight, near_weight
        self.ctrl_weight, self.success_bonus = ctrl_weight, success_bonus

    @property
    def target(self) -> int:
        """Index of the object to push."""
        return self._scene.task.object

    @property
    def is_success(self) -> bool:
        """Whether the target's centre is inside the goal square."""
        return self._success(self.object_states())

    def _success(self, states: np.ndarray) -> bool:
        goal = self._scene.goal
        pos = states[self.n_agents + self.target, :2]
        return bool(np.all(np.abs(pos - np.asarray(goal.center)) <= goal.half_size))

    def _complete(self, spec: SceneSpec) -> SceneSpec:
        spec = super()._complete(spec)
        if not spec.objects:
            raise ValueError(f"{self.env_id} needs at least one object to push; the scene has none")
        if self.mass_scale != 1.0:
            spec = dataclasses.replace(spec, objects=[dataclasses.replace(o, mass=o.mass * self.mass_scale)
                                                      for o in spec.objects])
        if spec.task is not None and spec.task.reach:
            raise ValueError(f"the scene's task is to reach the goal; use WorldSim/Reach-v0, not {self.env_id}")
        if spec.task is not None and spec.task.direction is None:
            return spec
        # Push the task's object, else the first box, else the first object, into a goal.
        shapes = [o.shape for o in spec.objects]
        first_box = shapes.index("box") if "box" in shapes else 0
        target = spec.task.object if spec.task is not None else first_box
        goal = spec.goal or self._place_goal(spec, spec.objects[target].pos, 0.6)
        return SceneSpec(spec.agents, spec.objects, spec.arena, spec.slab, goal, TaskSpec(0, target, None))

    def _reward(self, action: np.ndarray, states: np.ndarray) -> tuple[float, dict[str, Any]]:
        box = states[self.n_agents + self.target, :2]
        dist = float(np.linalg.norm(box - np.asarray(self._scene.goal.center)))
        success = self._success(states)
        terms = {
            "reward_dist": -self.dist_weight * dist,
            "reward_near": -self.near_weight * float(np.linalg.norm(states[0, :2] - box)),
            "reward_ctrl": -self.ctrl_weight * float(np.sum(np.square(action))),
            "reward_success": self.success_bonus if success else 0.0,
        }
        reward = float(sum(terms.values()))
        return reward, {**terms, "distance": dist, "is_success": success}

    def _terminated(self, states: np.ndarray) -> bool:
        return self._success(states)

    def _info(self, states: np.ndarray) -> dict[str, Any]:
        info = super()._info(states)
        info["target"] = self._scene.object_names()[self.target]
        return info


class PushBoxHeavyEnv(PushBoxEnv):
    """:class:`PushBoxEnv` with objects four times heavier: a physics variant kept out of pre-training,
    for checking and fine-tuning on dynamics the model has not seen. The agent slows down when it
    pushes."""

    env_id = "WorldSim/PushBoxHeavy-v0"
    mass_scale = 4.0


REACH_PROGRESS_WEIGHT = 10.0  # reward per metre moved towards the goal
REACH_CTRL_WEIGHT = 0.01  # weight of the squared action
REACH_SUCCESS_BONUS = 10.0  # reward on arrival


class ReachEnv(WorldSimEnv):
    """Drive the agent onto the goal square, past the still objects in its way.

    ``reward = reward_progress + reward_ctrl + reward_success``, each term in ``info``:
    ``reward_progress = progress_weight * (d_before - d_after)``, the step's decrease of the agent-goal
    distance ``d`` (a shaping term: its sum over an episode is ``progress_weight`` times the distance
    covered, so it rewards moving closer without changing which policies are best),
    ``reward_ctrl = -ctrl_weight * |action|^2`` and ``reward_success = success_bonus`` once the
    agent's centre is inside the goal square, which also terminates the episode.
    ``info["distance"]`` is ``d`` in metres.

    Args:
        render_mode: See :class:`WorldSimEnv`.
        progress_weight: Reward per metre moved towards the goal.
        ctrl_weight: Weight of the squared action.
        success_bonus: Reward on the step the agent reaches the goal.
    """

    family = "reach"
    env_id = "WorldSim/Reach-v0"

    def __init__(
        self,
        render_mode: str | None = "rgb_array",
        *,
        progress_weight: float = REACH_PROGRESS_WEIGHT,
        ctrl_weight: float = REACH_CTRL_WEIGHT,
        success_bonus: float = REACH_SUCCESS_BONUS,
    ):
        super().__init__(render_mode=render_mode)
        self.progress_weight, self.ctrl_weight, self.success_bonus = progress_weight, ctrl_weight, success_bonus
        self._distance = 0.0

    @property
    def is_success(self) -> bool:
        """Whether the agent's centre is inside the goal square."""
        return self._success(self.object_states())

    def _success(self, states: np.ndarray) -> bool:
        goal = self._scene.goal
        return bool(np.all(np.abs(states[self._scene.task.agent, :2] - np.asarray(goal.center)) <= goal.half_size))

    def _goal_distance(self, states: np.ndarray) -> float:
        return float(np.linalg.norm(states[self._scene.task.agent, :2] - np.asarray(self._scene.goal.center)))

    def _complete(self, spec: SceneSpec) -> SceneSpec:
        spec = super()._complete(spec)
        if spec.task is not None and not spec.task.reach:
            raise ValueError(f"the scene's task pushes an object; use WorldSim/PushBox-v0, not {self.env_id}")
        goal = spec.goal or self._place_goal(spec, spec.agents[0].pos, REACH_MIN_START)
        return SceneSpec(spec.agents, spec.objects, spec.arena, spec.slab, goal, TaskSpec(0, None))

    def _load(self, spec: SceneSpec) -> None:
        super()._load(spec)
        self._distance = self._goal_distance(self.object_states())

    def _reward(self, action: np.ndarray, states: np.ndarray) -> tuple[float, dict[str, Any]]:
        dist, before = self._goal_distance(states), self._distance
        self._distance = dist
        success = self._success(states)
        terms = {
            "reward_progress": self.progress_weight * (before - dist),
            "reward_ctrl": -self.ctrl_weight * float(np.sum(np.square(action))),
            "reward_success": self.success_bonus if success else 0.0,
        }
        return float(sum(terms.values())), {**terms, "distance": dist, "is_success": success}

    def _terminated(self, states: np.ndarray) -> bool:
        return self._success(states)
