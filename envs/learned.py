"""Gymnasium environments whose physics is the learned simulator.

``WorldSim/<Scene>-Learned-v0`` looks like ``WorldSim/<Scene>-v0`` from the outside: same action
space, same 64x64 uint8 observations, rewards and terminations (from the model's heads). Inside,
every step is one :meth:`worldsim.simulator.Simulator.step`; these wrappers hold no model code.

A reset draws the starting frame from the ground-truth scene (reset with the same seed and
options) and conditions on its caption, or, with ``options={"prompt": ...}``, generates the first
frame from the text alone: the prompt is parsed and re-captioned (:func:`envs.canonical_prompt`), so
any wording the parser reads reaches the model in the captioner's words, and words it cannot read
raise :class:`envs.PromptError`.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from envs.actions import check_action
from envs.caption import canonical_prompt
from worldsim.simulator import Simulator, SimulatorConfig
from worldsim.worldmodel import DEFAULT_CHECKPOINT, WorldModel, default_checkpoint

_MODELS: dict[str, WorldModel] = {}


def load_model(checkpoint: str | os.PathLike | None) -> WorldModel:
    """Load (once per process) the world model of a checkpoint directory."""
    path = Path(checkpoint) if checkpoint is not None else default_checkpoint()
    key = str(path.resolve())
    if key not in _MODELS:
        _MODELS[key] = WorldModel.load(path)
    return _MODELS[key]


class ActionAdapter:
    """Checks env actions and maps them onto the model's action vector (zero-padded)."""

    def __init__(self, space: spaces.Box, model_dim: int, env_id: str):
        if not isinstance(space, spaces.Box) or len(space.shape) != 1:
            raise TypeError(f"{env_id}: learned envs need a 1-D Box action space, got {space}")
        if space.shape[0] > model_dim:
            raise ValueError(
                f"{env_id} has {space.shape[0]}-D actions but the checkpoint's model takes {model_dim}: "
                "train a model on data from this env"
            )
        self.space, self.model_dim, self.env_id = space, model_dim, env_id

    def __call__(self, action: Any, batch: int | None = None) -> np.ndarray:
        """Validate ``action`` ``(A,)`` (or ``(batch, A)``) as the ground-truth env does
        (:func:`envs.actions.check_action`: clipped to the bounds) and return ``(batch or 1, model_dim)`` float32."""
        a = check_action(action, self.space, self.env_id, batch).reshape(-1, self.space.shape[0])
        return np.pad(a, ((0, 0), (0, self.model_dim - a.shape[1])))


def _check_options(options: Any, env_id: str) -> None:
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options must be a dict (e.g. {{'prompt': 'a red box'}}) or None for {env_id}, "
                        f"got {type(options).__name__}")


class _GroundTruthStarts:
    """Ground-truth scenes that supply each rollout's first frame and caption."""

    def __init__(self, scene_id: str, count: int):
        import envs  # noqa: F401  (registers the ground-truth scenes)

        self.envs = [gym.make(scene_id).unwrapped for _ in range(count)]

    @property
    def action_space(self) -> spaces.Box:
        return self.envs[0].action_space

    def start(self, i: int, seed: int | None, options: dict | None) -> tuple[np.ndarray, dict]:
        obs, info = self.envs[i].reset(seed=seed, options=options)
        return obs, info

    def close(self) -> None:
        for env in self.envs:
            env.close()


class LearnedEnv(gym.Env):
    """One rollout of the learned simulator behind the Gymnasium API.

    Args:
        scene: Ground-truth scene id this env imitates, e.g. ``"WorldSim/PushBox-v0"``.
        checkpoint: World-model checkpoint directory; default the shipped one.
        sim: Simulator settings (sampling steps, guidance, window, ...).
        render_mode: Only ``"rgb_array"``.
        device: Torch device; default CUDA when available, else CPU.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, scene: str, checkpoint: str | os.PathLike | None = None, sim: SimulatorConfig | None = None,
                 render_mode: str | None = "rgb_array", device: str | None = None):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be 'rgb_array' or None, got {render_mode!r}")
        self.render_mode = render_mode
        self.scene_id = scene
        self._init_args = {"scene": scene, "checkpoint": checkpoint, "sim": sim, "render_mode": render_mode,
                           "device": device}
        self.starts = _GroundTruthStarts(scene, 1)
        self.sim = Simulator(load_model(checkpoint), 1, sim, device)
        self.action_space = self.starts.action_space
        self.observation_space = spaces.Box(0, 255, self.sim.frame_shape, np.uint8)
        self.actions = ActionAdapter(self.action_space, self.sim.action_dim, f"{scene} (learned)")
        self._frame: np.ndarray | None = None
        self._episode_info: dict[str, Any] = {}
        self._has_task = hasattr(self.starts.envs[0], "is_success")
        self._closed = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if self._closed:
            raise RuntimeError(f"{self.scene_id} (learned) is closed; make a new env")
        _check_options(options, self.scene_id)
        super().reset(seed=seed)
        sim_seed = int(self.np_random.integers(2**31))
        options = dict(options or {})
        prompt = options.pop("prompt", None)
        if prompt is not None and not options:
            # the model reads the prompt in the captioner's words, which it was trained on
            text = canonical_prompt(prompt, seed=int(self.np_random.integers(2**31)))
            out = self.sim.reset(prompt=text, seed=sim_seed)
            info = {"caption": text, "prompt": prompt, "source": "prompt"}
        else:
            if prompt is not None:
                options["prompt"] = prompt
            obs, gt_info = self.starts.start(0, seed, options or None)
            out = self.sim.reset(context_frames=obs[None, None], prompt=gt_info.get("caption", ""), seed=sim_seed)
            info = {"caption": gt_info.get("caption", ""), "spec": gt_info.get("spec"), "source": "ground_truth"}
        self._frame = out.frames[0]
        self._episode_info = {k: info[k] for k in ("caption", "spec") if info.get(k) is not None}
        return self._frame, info

    def step(self, action):
        """One step of the model. ``info`` holds the episode's ``caption`` and ``spec`` and, in scenes
        with a task (PushBox), ``is_success`` from the termination head, as the MuJoCo twin's does;
        quantities read off the physics state (object positions, distances, reward terms) have no
        counterpart in a model of pixels."""
        if self._closed:
            raise RuntimeError(f"{self.scene_id} (learned) is closed; make a new env")
        if self._frame is None:
            raise RuntimeError(f"{self.scene_id} (learned): call reset() before step()")
        out = self.sim.step(self.actions(action))
        self._frame = out.frames[0]
        terminated = bool(out.terminated[0])
        info = copy.deepcopy(self._episode_info)  # callers keep what they are given
        if self._has_task:
            info["is_success"] = terminated
        return self._frame, float(out.rewards[0]), terminated, False, info

    def __reduce__(self):
        """Pickle (and deep-copy) by the constructor's arguments: the copy is a fresh env of the same
        scene and model, to be reset before use (the model's KV cache is not carried over)."""
        return _rebuild_learned_env, (self._init_args,)

    def render(self):
        """The last frame (uint8 ``(64, 64, 3)``), or None when ``render_mode`` is None.
        ``gymnasium.make`` adds ``rgb_array_list`` and ``human`` on top of it."""
        return None if self.render_mode is None else self._frame

    def close(self):
        self.starts.close()
        self._closed = True


def _rebuild_learned_env(kwargs: dict[str, Any]) -> LearnedEnv:
    return LearnedEnv(**kwargs)


class LearnedVectorEnv(VectorEnv):
    """``num_envs`` rollouts in one batched :class:`~worldsim.simulator.Simulator`.

    Sub-environments that end are reset as Gymnasium's own vector envs do, by ``autoreset_mode``:

    * ``SAME_STEP`` (default): in the same ``step`` call; the returned observation is the new
      episode's first frame, ``info["final_obs"]`` / ``info["final_info"]`` hold the last ones,
      masked by ``info["_final_obs"]`` / ``info["_final_info"]``, and the new episode's reset info
      (``caption``) is in ``info`` under its ``_caption`` mask;
    * ``NEXT_STEP``: the step that ends an episode returns its last frame; the next ``step`` call
      resets that sub-environment (its action is ignored) and returns the new first frame with
      reward 0, not terminated or truncated, and the reset info.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10, "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, scene: str, num_envs: int = 1, checkpoint: str | os.PathLike | None = None,
                 sim: SimulatorConfig | None = None, max_episode_steps: int | None = None,
                 render_mode: str | None = "rgb_array", device: str | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.SAME_STEP):
        mode = AutoresetMode(autoreset_mode)
        if mode not in (AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP):
            raise ValueError(f"autoreset_mode {mode} is not supported; use SAME_STEP or NEXT_STEP")
        self.metadata = {**type(self).metadata, "autoreset_mode": mode}
        self.num_envs = num_envs
        self.scene_id = scene
        self.render_mode = render_mode
        self.starts = _GroundTruthStarts(scene, num_envs)
        self.sim = Simulator(load_model(checkpoint), num_envs, sim, device)
        self.single_action_space = self.starts.action_space
        self.single_observation_space = spaces.Box(0, 255, self.sim.frame_shape, np.uint8)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, num_envs)
        self.actions = ActionAdapter(self.single_action_space, self.sim.action_dim, f"{scene} (learned)")
        self.max_episode_steps = max_episode_steps
        self.elapsed = np.zeros(num_envs, dtype=np.int64)
        self._frames: np.ndarray | None = None
        self._captions = [""] * num_envs
        self._pending = np.zeros(num_envs, dtype=bool)  # NEXT_STEP: ended, reset on the next step

    def _start_frames(self, rows: np.ndarray, seeds: list[int | None], options: dict | None) -> np.ndarray:
        frames = []
        for row, seed in zip(rows, seeds):
            obs, info = self.starts.start(int(row), seed, options)
            frames.append(obs)
            self._captions[row] = info.get("caption", "")
        return np.stack(frames)[:, None]  # (n, 1, H, W, 3)

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        seeds = self._check_seeds(seed)
        _check_options(options, self.scene_id)
        if seed is not None:
            self._np_random, self._np_random_seed = gym.utils.seeding.np_random(seeds[0])
        rows = np.arange(self.num_envs)
        frames = self._start_frames(rows, seeds, options)
        out = self.sim.reset(context_frames=frames, prompt=list(self._captions), seed=self._sim_seed())
        self.elapsed[:] = 0
        self._pending[:] = False
        self._frames = out.frames
        return out.frames.copy(), {"caption": np.array(self._captions, dtype=object)}

    def _check_seeds(self, seed: Any) -> list[int | None]:
        """One seed per sub-environment: an int ``s`` gives ``s, s+1, ...``; a list gives its own."""
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            return [int(seed) + i for i in range(self.num_envs)]
        if isinstance(seed, (list, tuple, np.ndarray)) and len(seed) == self.num_envs and all(
                s is None or (isinstance(s, (int, np.integer)) and not isinstance(s, bool)) for s in seed):
            return [None if s is None else int(s) for s in seed]
        raise ValueError(f"seed must be None, an int, or a list of {self.num_envs} ints (or None) for "
                         f"{self.scene_id} (learned, vector), got {seed!r}")

    def _sim_seed(self) -> int:
        return int(self.np_random.integers(2**31))

    def _restart(self, rows: np.ndarray, obs: np.ndarray, infos: dict[str, Any]) -> None:
        """Reset sub-environments ``rows`` in place: new first frames into ``obs``, reset info into ``infos``."""
        frames = self._start_frames(rows, [None] * len(rows), None)
        obs[rows] = self.sim.reset(context_frames=frames, prompt=[self._captions[r] for r in rows], rows=rows).frames
        self.elapsed[rows] = 0
        infos["caption"] = np.empty(self.num_envs, dtype=object)
        infos["caption"][rows] = [self._captions[r] for r in rows]
        infos["_caption"] = np.isin(np.arange(self.num_envs), rows)

    def step(self, actions):
        if self._frames is None:
            raise RuntimeError(f"{self.scene_id} (learned, vector): call reset() before step()")
        out = self.sim.step(self.actions(actions, self.num_envs))
        self.elapsed += 1
        obs, rewards = out.frames.copy(), out.rewards.astype(np.float64)
        terminated = out.terminated.copy()
        truncated = np.zeros(self.num_envs, dtype=bool)
        if self.max_episode_steps is not None:
            truncated = (self.elapsed >= self.max_episode_steps) & ~terminated
        infos: dict[str, Any] = {}
        if self.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP:
            restart = np.flatnonzero(self._pending)
            if len(restart):
                self._restart(restart, obs, infos)
                rewards[restart], terminated[restart], truncated[restart] = 0.0, False, False
            self._pending = terminated | truncated
        else:
            done = np.flatnonzero(terminated | truncated)
            if len(done):
                mask = np.isin(np.arange(self.num_envs), done)
                infos["final_obs"] = np.empty(self.num_envs, dtype=object)  # one frame per row, None where live
                for r in done:
                    infos["final_obs"][r] = obs[r].copy()
                infos["_final_obs"] = mask
                infos["final_info"] = {}
                infos["_final_info"] = mask.copy()
                self._restart(done, obs, infos)
        self._frames = obs
        return obs, rewards, terminated, truncated, infos

    def render(self):
        return None if self._frames is None else self._frames.copy()

    def close_extras(self, **kwargs):
        self.starts.close()


def make_learned_vector_env(scene: str, num_envs: int = 1, max_episode_steps: int | None = None,
                            **kwargs) -> LearnedVectorEnv:
    """Vector entry point for ``gymnasium.make_vec("WorldSim/<Scene>-Learned-v0", num_envs=N)``."""
    return LearnedVectorEnv(scene, num_envs, max_episode_steps=max_episode_steps, **kwargs)


__all__ = ["DEFAULT_CHECKPOINT", "ActionAdapter", "LearnedEnv", "LearnedVectorEnv", "default_checkpoint",
           "load_model", "make_learned_vector_env"]
