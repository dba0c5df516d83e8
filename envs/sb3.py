"""stable-baselines3 ``VecEnv`` adapters: a natively batched Gymnasium vector env, and PettingZoo agents.

SB3 expects same-step autoreset: when a sub-environment ends, ``step`` returns the next episode's
first observation, with the last one in ``info["terminal_observation"]`` and
``info["TimeLimit.truncated"]`` set when the episode was cut by the time limit.
:class:`~envs.learned.LearnedVectorEnv` autoresets that way, so this adapter only reshapes the
results: one Simulator with batch N serves all N SB3 environments.

    venv = SB3VecEnv(gymnasium.make_vec("WorldSim/PushBox-Learned-v0", num_envs=16))
    PPO("CnnPolicy", venv).learn(10_000)

:class:`AgentsVecEnv` turns the agents of a PettingZoo ``ParallelEnv`` into SB3 envs that share one
policy (parameter sharing), for multi-agent training with single-agent SB3.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn


class _SyncVecEnv(VecEnv):
    """SB3's ``step_async``/``step_wait`` split for envs that do all their stepping in ``step_wait``."""

    _actions: np.ndarray | None = None

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.float32)

    def _take_actions(self) -> np.ndarray:
        """The actions of the pending ``step_async``, consumed."""
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        actions, self._actions = self._actions, None
        return actions


class SB3VecEnv(_SyncVecEnv):
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

    def reset(self) -> np.ndarray:
        seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else None
        options = self._options[0] if self._options and self._options[0] else None
        obs, _ = self.venv.reset(seed=seed, options=options)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, terminated, truncated, info = self.venv.step(self._take_actions())
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
    from worldsim import envs  # noqa: F401  (registers the WorldSim ids)

    return SB3VecEnv(gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs))


class AgentsVecEnv(_SyncVecEnv):
    """Parameter sharing for SB3: every agent of every copy of a PettingZoo ``ParallelEnv`` is one env.

    With ``copies`` environments of ``n`` agents each, SB3 sees ``copies * n`` envs, ordered copy by
    copy and, inside a copy, in ``possible_agents`` order, so one policy acts for all agents. Agents
    that share an observation would then act alike, so each observation gets one extra channel that
    names the agent: ``255 * i / (n - 1)`` for agent ``i`` (frames ``(H, W, C)`` become ``(H, W, C + 1)``).
    A copy whose episode ends (every agent at once, as in TwoAgents) is reset in the same step, with
    ``terminal_observation`` and ``TimeLimit.truncated`` in its agents' infos, as SB3 expects.

        venv = AgentsVecEnv([TeamPushTask(learned_parallel_env()) for _ in range(4)])
        PPO("CnnPolicy", VecTransposeImage(VecMonitor(venv))).learn(10_000)
    """

    def __init__(self, envs: Sequence[Any], seed: int | None = None):
        if not envs:
            raise ValueError("AgentsVecEnv needs at least one ParallelEnv")
        self.envs = list(envs)
        self.agents = list(self.envs[0].possible_agents)
        if any(list(e.possible_agents) != self.agents for e in self.envs):
            raise ValueError("every ParallelEnv copy must have the same possible_agents")
        frame = self.envs[0].observation_space(self.agents[0])
        if not (isinstance(frame, gym.spaces.Box) and frame.dtype == np.uint8 and len(frame.shape) == 3):
            raise TypeError(f"AgentsVecEnv needs uint8 (H, W, C) frames per agent, got {frame}")
        h, w, c = frame.shape
        obs_space = gym.spaces.Box(0, 255, (h, w, c + 1), np.uint8)
        super().__init__(len(self.envs) * len(self.agents), obs_space, self.envs[0].action_space(self.agents[0]))
        n = len(self.agents)
        self._marks = [np.uint8(round(255 * i / max(n - 1, 1))) for i in range(n)]
        self._next_seed = seed

    def _mark(self, obs: dict) -> np.ndarray:
        """``(n_agents, H, W, C + 1)``: each agent's frame with its indicator channel."""
        return np.stack([np.concatenate([obs[a], np.full((*obs[a].shape[:2], 1), m, np.uint8)], axis=-1)
                         for a, m in zip(self.agents, self._marks)])

    def _reset_copy(self, i: int) -> np.ndarray:
        seed = None if self._next_seed is None else self._next_seed + i
        obs, _ = self.envs[i].reset(seed=seed)
        return self._mark(obs)

    def reset(self) -> np.ndarray:
        if self._seeds and self._seeds[0] is not None:
            self._next_seed = self._seeds[0]
        frames = np.concatenate([self._reset_copy(i) for i in range(len(self.envs))])
        self._next_seed = None  # later resets continue each copy's own random stream
        self._reset_seeds()
        return frames

    def step_wait(self) -> VecEnvStepReturn:
        n = len(self.agents)
        actions = self._take_actions().reshape(len(self.envs), n, *self.action_space.shape)
        frames, rewards, dones, infos = [], [], [], []
        for i, env in enumerate(self.envs):
            obs, rew, term, trunc, _ = env.step(dict(zip(self.agents, actions[i])))
            ended = [a in term and (term[a] or trunc[a]) for a in self.agents]
            if any(ended) and not all(ended):
                raise RuntimeError("AgentsVecEnv needs every agent of a copy to end at the same step")
            marked = self._mark(obs)
            info = [{} for _ in self.agents]
            if all(ended):
                for j, a in enumerate(self.agents):
                    info[j] = {"terminal_observation": marked[j], "TimeLimit.truncated": bool(trunc[a] and not term[a])}
                marked = self._reset_copy(i)
            frames.append(marked)
            rewards += [float(rew[a]) for a in self.agents]
            dones += ended
            infos += info
        return np.concatenate(frames), np.asarray(rewards, np.float32), np.asarray(dones), infos

    def close(self) -> None:
        for env in self.envs:
            env.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [env.render() for env in self.envs for _ in self.agents]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        n = len(self.agents)
        return [getattr(self.envs[i // n], attr_name) for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        n = len(self.agents)
        for i in self._get_indices(indices):
            setattr(self.envs[i // n], attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list:
        n = len(self.agents)
        return [getattr(self.envs[i // n], method_name)(*method_args, **method_kwargs)
                for i in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]
