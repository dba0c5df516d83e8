"""PettingZoo ``ParallelEnv`` for the TwoAgents ground-truth scene.

Agents ``"agent_0"`` (white) and ``"agent_1"`` (pink) each act with a 2-D force in
``Box(-1, 1, (2,))`` and both observe the same uint8 ``(64, 64, 3)`` top-down frame (also
``state()``). Rewards are zero; episodes are truncated after ``max_cycles`` steps::

    from worldsim.envs.multiagent import parallel_env

    env = parallel_env()
    obs, infos = env.reset(seed=0)
    obs, rewards, terms, truncs, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from worldsim.envs.ground_truth import TwoAgentsEnv
from worldsim.metrics import detect_objects

AgentID = str


class TwoAgentsParallelEnv(ParallelEnv[AgentID, np.ndarray, np.ndarray]):
    """Two agents and a box, stepped simultaneously (wraps :class:`worldsim.envs.ground_truth.TwoAgentsEnv`).

    Args:
        render_mode: "rgb_array", "human" (a window, through Gymnasium's ``HumanRendering``; needs
            pygame: ``pip install -e '.[wrappers]'``) or None.
        max_cycles: Steps before every agent is truncated.
        env: The single-agent env to split between the agents (its action is both agents' forces
            concatenated); default the MuJoCo scene. :func:`learned_parallel_env` passes the learned one.
    """

    metadata = {
        "name": "worldsim_twoagents_v0",
        "render_modes": ["rgb_array", "human"],
        "render_fps": 10,
        "is_parallelizable": True,
    }

    def __init__(self, render_mode: str | None = "rgb_array", max_cycles: int = 200, env: Any = None):
        if max_cycles < 1:
            raise ValueError(f"max_cycles={max_cycles} must be at least 1")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode={render_mode!r}; choose one of {self.metadata['render_modes']} or None")
        env = env if env is not None else TwoAgentsEnv(render_mode="rgb_array")
        if render_mode == "human":
            from gymnasium.wrappers import HumanRendering

            env = HumanRendering(env)  # shows every frame as it is made; its render() returns None
        self.env = env
        self.render_mode = render_mode
        self._frame: np.ndarray | None = None
        self.max_cycles = max_cycles
        n_agents = self.env.action_space.shape[0] // 2
        self.possible_agents: list[AgentID] = [f"agent_{i}" for i in range(n_agents)]
        self.agents: list[AgentID] = []
        self.observation_spaces = dict.fromkeys(self.possible_agents, self.env.observation_space)
        self.action_spaces = {a: spaces.Box(-1.0, 1.0, (2,), dtype=np.float32) for a in self.possible_agents}
        self.state_space = self.env.observation_space
        self._cycles = 0

    def observation_space(self, agent: AgentID) -> spaces.Space:
        """The (shared) frame space of an agent."""
        return self.observation_spaces[agent]

    def action_space(self, agent: AgentID) -> spaces.Space:
        """An agent's 2-D force space."""
        return self.action_spaces[agent]

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[AgentID, np.ndarray], dict[AgentID, dict]]:
        """Start an episode; ``options`` may carry "spec" or "prompt" as for the Gymnasium env."""
        options = dict(options or {})
        extra = sorted(k for k in options if k not in ("spec", "prompt"))
        if extra:
            warnings.warn(f"ignoring reset option(s) {extra}; supported: 'spec', 'prompt'", stacklevel=2)
        kept = {k: options[k] for k in ("spec", "prompt") if k in options}
        obs, info = self.env.reset(seed=seed, options=kept)
        self._frame = obs
        self.agents = list(self.possible_agents)
        self._cycles = 0
        return self._per_agent(obs), self._infos(info)

    def step(self, actions: dict[AgentID, np.ndarray]) -> tuple[dict, dict, dict, dict, dict]:
        """Apply every live agent's force for one 0.1 s step."""
        if not self.agents:
            raise RuntimeError("all agents are done; call reset() first")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"no action for {missing}; pass one Box(-1, 1, (2,)) action per live agent")
        joint = []
        for a in self.possible_agents:
            act = np.asarray(actions.get(a, np.zeros(2)), dtype=np.float32)
            if act.shape != (2,):
                raise ValueError(f"action for {a} has shape {act.shape}, expected (2,)")
            joint.append(act)
        obs, reward, terminated, truncated, info = self.env.step(np.concatenate(joint))
        self._frame = obs
        self._cycles += 1
        truncated = truncated or self._cycles >= self.max_cycles
        agents = self.agents
        out = (
            self._per_agent(obs),
            dict.fromkeys(agents, float(reward)),
            dict.fromkeys(agents, bool(terminated)),
            dict.fromkeys(agents, bool(truncated)),
            self._infos(info),
        )
        if terminated or truncated:
            self.agents = []
        return out

    def render(self) -> np.ndarray | None:
        """The current frame (uint8 ``(64, 64, 3)``); None for ``render_mode`` "human" (the window
        shows it) or None."""
        return None if self.render_mode != "rgb_array" else self.env.render()

    def state(self) -> np.ndarray:
        """The global state: the current top-down frame."""
        return self._frame.copy() if self._frame is not None else np.zeros(self.state_space.shape, np.uint8)

    def close(self) -> None:
        """Free the renderer."""
        self.env.close()

    def _per_agent(self, obs: np.ndarray) -> dict[AgentID, np.ndarray]:
        return {a: obs if i == 0 else obs.copy() for i, a in enumerate(self.agents)}

    def _infos(self, info: dict[str, Any]) -> dict[AgentID, dict]:
        index = {a: i for i, a in enumerate(self.possible_agents)}
        agents = info.get("agents")
        return {a: {**info, "agent_index": index[a], **({"agent": agents[index[a]]} if agents else {})}
                for a in self.agents}


def parallel_env(render_mode: str | None = "rgb_array", max_cycles: int = 200) -> TwoAgentsParallelEnv:
    """Make the TwoAgents PettingZoo env (PettingZoo's ``parallel_env()`` convention)."""
    return TwoAgentsParallelEnv(render_mode=render_mode, max_cycles=max_cycles)


def env(render_mode: str | None = "rgb_array", max_cycles: int = 200) -> AECEnv:
    """The TwoAgents PettingZoo env in turn-by-turn (AEC) form (PettingZoo's ``env()`` convention):
    the parallel env behind PettingZoo's own converter, so both forms step the same physics."""
    return parallel_to_aec(parallel_env(render_mode=render_mode, max_cycles=max_cycles))


def learned_parallel_env(checkpoint: str | None = None, max_cycles: int = 200, render_mode: str | None = "rgb_array",
                         **kwargs: Any) -> TwoAgentsParallelEnv:
    """The TwoAgents scene simulated by the learned model, as a PettingZoo ``ParallelEnv``.

    ``kwargs`` go to :class:`worldsim.envs.learned.LearnedEnv` (``sim=``, ``device=``).
    """
    from worldsim.envs.learned import LearnedEnv

    inner = LearnedEnv("WorldSim/TwoAgents-v0", checkpoint=checkpoint, **kwargs)
    return TwoAgentsParallelEnv(render_mode=render_mode, max_cycles=max_cycles, env=inner)


class TeamPushTask(ParallelEnv[AgentID, np.ndarray, np.ndarray]):
    """A cooperative task on TwoAgents: both agents earn the box's progress towards the right wall.

    The shared reward of a step is the change of the box's centroid column, in pixels, divided by
    ``px_per_unit``; an episode's return is how far the team moved the box right. The box is found in
    the observed frame by colour (the frame's only palette-coloured object; agents, floor and walls are
    background), so the MuJoCo scene and the learned simulator are scored by the same rule, from
    pixels alone. A step where the box is not found (hidden, or lost by the model) earns nothing.

    Args:
        env: A TwoAgents ``ParallelEnv`` (:func:`parallel_env` or :func:`learned_parallel_env`).
        px_per_unit: Pixels of rightward box motion per unit of reward.
    """

    metadata = {**TwoAgentsParallelEnv.metadata, "name": "worldsim_teampush_v0"}

    def __init__(self, env: ParallelEnv, px_per_unit: float = 8.0):
        if px_per_unit <= 0:
            raise ValueError(f"px_per_unit must be positive, got {px_per_unit}")
        from worldsim.envs.scene import PALETTE, render_palette, render_scenery_colors

        self.env, self.px_per_unit = env, float(px_per_unit)
        palette = render_palette()
        self._box_colors = {k: palette[k] for k in PALETTE}
        self._background = (palette["agent"], palette["agent2"], *render_scenery_colors().values())
        self.possible_agents = list(env.possible_agents)
        self.render_mode = getattr(env, "render_mode", "rgb_array")
        self._col: float | None = None

    @property
    def agents(self) -> list[AgentID]:  # type: ignore[override]
        return self.env.agents

    def observation_space(self, agent: AgentID) -> spaces.Space:
        return self.env.observation_space(agent)

    def action_space(self, agent: AgentID) -> spaces.Space:
        return self.env.action_space(agent)

    def box_column(self, frame: np.ndarray) -> float | None:
        """The box's centroid column in ``frame`` (pixels), or None when no box is visible."""
        det = detect_objects(frame, self._box_colors, background=self._background)
        if not det.visible.any():
            return None
        k = int(np.argmax(np.where(det.visible, det.pixels, -1)))
        return float(det.centroids[k, 0])

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, infos = self.env.reset(seed=seed, options=options)
        self._col = self.box_column(next(iter(obs.values())))
        return obs, infos

    def step(self, actions: dict[AgentID, np.ndarray]):
        obs, _, terms, truncs, infos = self.env.step(actions)
        col = self.box_column(next(iter(obs.values()))) if obs else None
        gain = 0.0 if col is None or self._col is None else (col - self._col) / self.px_per_unit
        if col is not None:
            self._col = col
        return obs, dict.fromkeys(obs, gain), terms, truncs, infos

    def render(self) -> np.ndarray | None:
        return self.env.render()

    def state(self) -> np.ndarray:
        return self.env.state()

    def close(self) -> None:
        self.env.close()
