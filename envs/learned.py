"""Gymnasium environments whose physics is the learned simulator.

``WorldSim/<Scene>-Learned-v0`` looks like ``WorldSim/<Scene>-v0`` from the outside: same action
space, same 64x64 uint8 observations, rewards and terminations (from the model's heads). Inside,
every step is one :meth:`worldsim.simulator.Simulator.step`; these wrappers hold no model code.

A reset draws the starting frame from the ground-truth scene (reset with the same seed and
options) and conditions on its caption, or, with ``options={"prompt": ...}``, generates the first
frame from the text alone: the prompt is parsed and re-captioned (:func:`worldsim.envs.canonical_prompt`), so
any wording the parser reads reaches the model in the captioner's words, and words it cannot read
raise :class:`worldsim.envs.PromptError`. That first frame is the best of
``SimulatorConfig.first_frame_candidates`` draws, ranked against the parsed scene
(:func:`worldsim.envs.layout.layout_agreement`); ``sim={"first_frame_candidates": 1}`` keeps the first draw.

Imagined episodes as world-model RL uses them (DIAMOND, IRIS, DreamerV3): built with
``dataset="data/reach"`` (an episode store, or a list of them), a reset picks a recorded episode and a step in it at
random, and the model continues from that step with the ``burn_in`` true frames up to it (and the
actions between them) as context. Give such an env a short ``max_episode_steps``, the horizon over
which the model stays ahead of repeating the last frame. ``options={"start": "scene"}`` starts from
the MuJoCo scene instead, ``{"start": "dataset"}`` from the store.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from worldsim.data import pad_actions
from worldsim.envs.actions import check_action, check_options
from worldsim.envs.caption import caption
from worldsim.envs.frame_rewards import FrameReward, frame_reward
from worldsim.envs.layout import first_frame_score, layout_batch
from worldsim.envs.prompt import parse_prompt
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
        (:func:`worldsim.envs.actions.check_action`: clipped to the bounds) and return
        ``(batch or 1, model_dim)`` float32."""
        a = check_action(action, self.space, self.env_id, batch).reshape(-1, self.space.shape[0])
        return pad_actions(a, self.model_dim)


START_OPTIONS = ("scene", "dataset")


def _start_option(options: dict | None, dataset: _DatasetStarts | None, env_id: str) -> tuple[str, dict | None]:
    """Where a reset starts (``"scene"`` or ``"dataset"``) and the options left for the MuJoCo scene."""
    options = dict(options or {})
    start = options.pop("start", "dataset" if dataset is not None and not options else "scene")
    if start not in START_OPTIONS:
        raise ValueError(f"options['start']={start!r} for {env_id}; use one of {START_OPTIONS}")
    if start == "dataset":
        if dataset is None:
            raise ValueError(f"options['start']='dataset' needs an episode store: make {env_id} with dataset=DIR")
        if options:
            raise ValueError(f"a dataset start takes no other reset options, got {sorted(options)}")
    return start, options or None


def _context_actions(adapter: ActionAdapter, actions: list[np.ndarray]) -> np.ndarray | None:
    """Recorded actions between context frames ``[(k-1, A)] * n``, checked and padded: ``(n, k-1, model A)``."""
    if not actions or not len(actions[0]):
        return None
    n, k = len(actions), len(actions[0])
    return adapter(np.concatenate(actions), n * k).reshape(n, k, -1)


class _DatasetStarts:
    """Recorded episodes whose steps start imagined rollouts, with the true frames before them as context.

    Args:
        roots: Episode stores (``worldsim collect --out``), one path or several.
        burn_in: Context frames per start (the chosen step and those before it); episodes with fewer
            frames are not used.
        action_dim: The env's action width; the stores' must match.
        first_frames: Chance that a start is instead an episode's first recorded frame, the frame a
            reset gives, held still for the ``burn_in`` context frames (zero actions between them), so
            that imagined episodes also begin as real ones do, at rest.
    """

    def __init__(self, roots: str | os.PathLike | Sequence[str | os.PathLike], burn_in: int, action_dim: int,
                 env_id: str, first_frames: float = 0.0):
        from worldsim.store import EpisodeStore

        if not isinstance(burn_in, int) or burn_in < 1:
            raise ValueError(f"burn_in must be an int >= 1 (context frames per start), got {burn_in!r}")
        if isinstance(first_frames, bool) or not isinstance(first_frames, (int, float)) \
                or not 0.0 <= first_frames <= 1.0:
            raise ValueError(f"first_frames is the chance of a start at an episode's first frame, in [0, 1]; "
                             f"got {first_frames!r}")
        self.first_frames = float(first_frames)
        roots = [roots] if isinstance(roots, (str, os.PathLike)) else list(roots)
        self.stores, self.burn_in = [EpisodeStore(r) for r in roots], burn_in
        self.episodes = [(k, e["index"]) for k, store in enumerate(self.stores)
                         for e in store.manifest["episodes"] if e["length"] + 1 >= burn_in]
        names = ", ".join(str(r) for r in roots)
        if not self.episodes:
            raise ValueError(f"{names or 'no store'}: no episode of at least {burn_in} frames to start {env_id} "
                             "from; collect some with `worldsim collect --out DIR` or lower burn_in")
        for k, store in enumerate(self.stores):
            first = next((i for s, i in self.episodes if s == k), None)
            width = store.read(first).action_dim if first is not None else action_dim
            if width != action_dim:
                raise ValueError(f"{roots[k]} holds {width}-D actions but {env_id} takes {action_dim}-D ones; "
                                 "pass a store collected from this scene")

    def start(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
        """``(frames (burn_in, H, W, 3), actions (burn_in - 1, A), info)`` of a random step of a random episode."""
        k, index = self.episodes[int(rng.integers(len(self.episodes)))]
        ep = self.stores[k].read(index)
        info = {"caption": ep.caption, "spec": ep.spec or None, "source": "dataset",
                "store": str(self.stores[k].root), "episode": index}
        if self.first_frames > 0 and rng.random() < self.first_frames:
            frames = np.repeat(ep.frames[:1], self.burn_in, axis=0)
            actions = np.zeros((self.burn_in - 1, *ep.actions.shape[1:]), dtype=ep.actions.dtype)
            return frames, actions, {**info, "step": 0}
        t = int(rng.integers(self.burn_in - 1, len(ep) + 1))  # the last context frame
        first = t - self.burn_in + 1
        return ep.frames[first:t + 1], ep.actions[first:t], {**info, "step": t}


class _GroundTruthStarts:
    """Ground-truth scenes that supply each rollout's first frame and caption."""

    def __init__(self, scene_id: str, count: int):
        from worldsim import envs  # noqa: F401  (registers the ground-truth scenes)

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
        dataset: Episode store(s) to start imagined episodes from (see the module docstring); None
            starts every episode from the MuJoCo scene.
        burn_in: True frames of context for a dataset start.
        first_frames: Chance that a dataset start is a recorded episode's first frame, at rest, as a
            reset gives it (held still for the burn-in).
        reward: ``"heads"``: reward and termination from the model's heads; ``"frames"``: the scene's
            rule applied to the imagined frames (:mod:`worldsim.envs.frame_rewards`); or such a rule.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, scene: str, checkpoint: str | os.PathLike | None = None, sim: SimulatorConfig | None = None,
                 render_mode: str | None = "rgb_array", device: str | None = None,
                 dataset: str | os.PathLike | Sequence[str | os.PathLike] | None = None, burn_in: int = 4,
                 reward: str | FrameReward = "heads", first_frames: float = 0.0):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be 'rgb_array' or None, got {render_mode!r}")
        self.render_mode = render_mode
        self.scene_id = scene
        self._init_args = {"scene": scene, "checkpoint": checkpoint, "sim": sim, "render_mode": render_mode,
                           "device": device, "dataset": dataset, "burn_in": burn_in, "reward": reward,
                           "first_frames": first_frames}
        self.reward_rule = _reward_rule(reward, scene, 1)
        self.starts = _GroundTruthStarts(scene, 1)
        self.sim = Simulator(load_model(checkpoint), 1, sim, device)
        self.action_space = self.starts.action_space
        self.dataset = (_DatasetStarts(dataset, burn_in, self.action_space.shape[0], scene, first_frames)
                        if dataset is not None else None)
        self.observation_space = spaces.Box(0, 255, self.sim.frame_shape, np.uint8)
        self.actions = ActionAdapter(self.action_space, self.sim.action_dim, f"{scene} (learned)")
        self._frame: np.ndarray | None = None
        self._episode_info: dict[str, Any] = {}
        self._has_task = hasattr(self.starts.envs[0], "is_success")
        self._closed = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if self._closed:
            raise RuntimeError(f"{self.scene_id} (learned) is closed; make a new env")
        check_options(options, self.scene_id)
        super().reset(seed=seed)
        sim_seed = int(self.np_random.integers(2**31))
        start, options = _start_option(options, self.dataset, self.scene_id)
        options = dict(options or {})
        prompt = options.pop("prompt", None)
        if start == "dataset":
            frames, actions, info = self.dataset.start(self.np_random)
            out = self.sim.reset(context_frames=frames[None], context_actions=_context_actions(self.actions, [actions]),
                                 prompt=info["caption"], seed=sim_seed)
        elif prompt is not None and not options:
            # the model reads the prompt in the captioner's words, which it was trained on (canonical_prompt),
            # and a model with layout tokens also the parsed scene's layout
            spec = parse_prompt(prompt, seed=int(self.np_random.integers(2**31)))
            text = caption(spec)
            out = self.sim.reset(prompt=text, seed=sim_seed, layout=layout_batch([spec], self.sim.dit.cfg.layout_dim),
                                 first_frame_score=first_frame_score([spec]))
            info = {"caption": text, "prompt": prompt, "spec": spec.to_dict(), "source": "prompt"}
        else:
            if prompt is not None:
                options["prompt"] = prompt
            obs, gt_info = self.starts.start(0, seed, options or None)
            out = self.sim.reset(context_frames=obs[None, None], prompt=gt_info.get("caption", ""), seed=sim_seed)
            info = {"caption": gt_info.get("caption", ""), "spec": gt_info.get("spec"), "source": "ground_truth"}
        self._frame = out.frames[0]
        self._episode_info = {k: info[k] for k in ("caption", "spec") if info.get(k) is not None}
        if self.reward_rule is not None:
            self.reward_rule.reset(np.arange(1), out.frames, [info.get("spec")])
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
        rewards, terminated = out.rewards, out.terminated
        if self.reward_rule is not None:
            rewards, terminated = self.reward_rule.step(out.frames, np.asarray(action)[None])
        info = copy.deepcopy(self._episode_info)  # callers keep what they are given
        if self._has_task:
            info["is_success"] = bool(terminated[0])
        return self._frame, float(rewards[0]), bool(terminated[0]), False, info

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


def _reward_rule(reward: str | FrameReward, scene: str, num_envs: int) -> FrameReward | None:
    """None for the heads' reward, else the rule that reads it off the frames."""
    if reward == "heads":
        return None
    if reward == "frames":
        return frame_reward(scene, num_envs)
    if isinstance(reward, str) or not (hasattr(reward, "reset") and hasattr(reward, "step")):
        raise ValueError(f"reward must be 'heads', 'frames' or a rule with reset() and step(), got {reward!r}")
    return reward


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
                 autoreset_mode: AutoresetMode | str = AutoresetMode.SAME_STEP,
                 dataset: str | os.PathLike | Sequence[str | os.PathLike] | None = None, burn_in: int = 4,
                 reward: str | FrameReward = "heads", first_frames: float = 0.0):
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
        self.dataset = (_DatasetStarts(dataset, burn_in, self.single_action_space.shape[0], scene,
                                        first_frames)
                        if dataset is not None else None)
        self._start = "dataset" if self.dataset is not None else "scene"
        self.max_episode_steps = max_episode_steps
        self.elapsed = np.zeros(num_envs, dtype=np.int64)
        self._frames: np.ndarray | None = None
        self._captions = [""] * num_envs
        self._specs: list[dict | None] = [None] * num_envs  # each row's scene, where its start has one
        self._pending = np.zeros(num_envs, dtype=bool)  # NEXT_STEP: ended, reset on the next step
        self.reward_rule = _reward_rule(reward, scene, num_envs)

    def _start_frames(self, rows: np.ndarray, seeds: list[int | None], options: dict | None
                      ) -> tuple[np.ndarray, np.ndarray | None]:
        """Context frames ``(n, k, H, W, 3)`` and the actions between them for restarting ``rows``."""
        frames, actions = [], []
        for row, seed in zip(rows, seeds):
            if self._start == "dataset":
                obs, acts, info = self.dataset.start(self.np_random)
                actions.append(acts)
            else:
                obs, info = self.starts.start(int(row), seed, options)
                obs = obs[None]
            frames.append(obs)
            self._captions[row] = info.get("caption", "")
            self._specs[row] = info.get("spec")
        return np.stack(frames), _context_actions(self.actions, actions)

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        seeds = self._check_seeds(seed)
        check_options(options, self.scene_id)
        if seed is not None:
            self._np_random, self._np_random_seed = gym.utils.seeding.np_random(seeds[0])
        rows = np.arange(self.num_envs)
        self._start, options = _start_option(options, self.dataset, self.scene_id)
        frames, actions = self._start_frames(rows, seeds, options)
        out = self.sim.reset(context_frames=frames, context_actions=actions, prompt=list(self._captions),
                             seed=self._sim_seed())
        self.elapsed[:] = 0
        self._pending[:] = False
        self._frames = out.frames
        if self.reward_rule is not None:
            self.reward_rule.reset(rows, out.frames, [self._specs[r] for r in rows])
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
        frames, actions = self._start_frames(rows, [None] * len(rows), None)
        obs[rows] = self.sim.reset(context_frames=frames, context_actions=actions,
                                   prompt=[self._captions[r] for r in rows], rows=rows).frames
        if self.reward_rule is not None:
            self.reward_rule.reset(rows, obs[rows], [self._specs[r] for r in rows])
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
        if self.reward_rule is not None:
            rewards, terminated = self.reward_rule.step(out.frames, np.asarray(actions))
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
