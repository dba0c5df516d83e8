"""A stable-baselines3 ``VecEnv`` over a natively batched Gymnasium vector env.

SB3 expects same-step autoreset: when a sub-environment ends, ``step`` returns the next episode's
first observation, with the last one in ``info["terminal_observation"]`` and
``info["TimeLimit.truncated"]`` set when the episode was cut by the time limit.
:class:`~envs.learned.LearnedVectorEnv` autoresets that way, so this adapter only reshapes the
results: one Simulator with batch N serves all N SB3 environments.

    venv = SB3VecEnv(gymnasium.make_vec("WorldSim/PushBox-Learned-v0", num_envs=16))
    PPO("CnnPolicy", venv).learn(10_000)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn


class SB3VecEnv(VecEnv):
    """Adapt a same-step-autoreset Gymnasium ``VectorEnv`` to SB3's ``VecEnv``."""

    def __init__(self, venv: VectorEnv):
        mode = venv.metadata.get("autoreset_mode")
        if mode != AutoresetMode.SAME_STEP:
            raise ValueError(
                f"SB3VecEnv needs a vector env with autoreset_mode SAME_STEP, got {mode}; "
                "use gymnasium.make_vec(id, num_envs=N, vectorization_mode='sync', "
                "vector_kwargs={'autoreset_mode': gymnasium.vector.AutoresetMode.SAME_STEP})"
            )
        self.venv = venv
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
        self.render_mode = "rgb_array"
        self._actions: np.ndarray | None = None

    def reset(self) -> np.ndarray:
        seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else None
        options = self._options[0] if self._options and self._options[0] else None
        obs, _ = self.venv.reset(seed=seed, options=options)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.float32)

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        obs, rewards, terminated, truncated, info = self.venv.step(self._actions)
        self._actions = None
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for i in np.flatnonzero(dones):
            infos[i]["terminal_observation"] = info["final_obs"][i]
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self.venv.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        frames = self.venv.render()
        return [None] * self.num_envs if frames is None else list(frames)

    # SB3 asks sub-environments for attributes; the batched env has one set for all of them.
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.venv, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list:
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]


def make_sb3_env(env_id: str, num_envs: int = 1, **kwargs) -> SB3VecEnv:
    """``SB3VecEnv`` over ``gymnasium.make_vec(env_id, num_envs)`` (the batched learned simulator)."""
    import envs  # noqa: F401  (registers the WorldSim ids)

    return SB3VecEnv(gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs))
