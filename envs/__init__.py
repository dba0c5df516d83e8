"""worldsim environments: MuJoCo ground-truth scenes and their Gymnasium/PettingZoo wrappers.

Importing this package registers the ground-truth scenes with Gymnasium::

    import gymnasium as gym
    from worldsim import envs  # noqa: F401  (registers WorldSim/*)

    env = gym.make("WorldSim/PushBox-v0")  # render_mode="rgb_array" is the default
    obs, info = env.reset(seed=0)          # obs: uint8 (64, 64, 3); info["caption"], info["objects"], ...
    obs, info = env.reset(seed=0, options={"prompt": "a red box and a blue ball"})

The PettingZoo version of TwoAgents is :func:`worldsim.envs.multiagent.parallel_env`.
"""

from __future__ import annotations

import os

# MuJoCo chooses its OpenGL backend when it is first imported, and only EGL renders without a display.
# This is the one place that chooses it: every module that imports mujoco lives in this package, so
# this runs first. A MUJOCO_GL the caller has set is kept.
os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym

from worldsim.envs.caption import caption
from worldsim.envs.ground_truth import (
    OcclusionEnv,
    PlaygroundEnv,
    PushBoxEnv,
    PushBoxHeavyEnv,
    ReachEnv,
    TwoAgentsEnv,
    WorldSimEnv,
)
from worldsim.envs.prompt import PromptError, canonical_prompt, parse_prompt
from worldsim.envs.scene import (
    AGENT_COLOR,
    AGENT_COLORS,
    PALETTE,
    AgentSpec,
    ArenaSpec,
    GoalSpec,
    ObjectSpec,
    SceneSpec,
    SlabSpec,
    TaskSpec,
    render_palette,
    render_scenery_colors,
    world_to_pixel,
)

#: Ground-truth scenes: id -> (entry point, max_episode_steps). 10 steps = 1 s of simulated time.
GT_ENVS: dict[str, tuple[str, int]] = {
    "WorldSim/Playground-v0": ("worldsim.envs.ground_truth:PlaygroundEnv", 200),
    "WorldSim/PushBox-v0": ("worldsim.envs.ground_truth:PushBoxEnv", 200),
    "WorldSim/PushBoxHeavy-v0": ("worldsim.envs.ground_truth:PushBoxHeavyEnv", 200),
    "WorldSim/Occlusion-v0": ("worldsim.envs.ground_truth:OcclusionEnv", 60),
    "WorldSim/TwoAgents-v0": ("worldsim.envs.ground_truth:TwoAgentsEnv", 200),
    "WorldSim/Reach-v0": ("worldsim.envs.ground_truth:ReachEnv", 100),
}


def scene_env_id(spec: SceneSpec) -> str:
    """The ground-truth scene that simulates ``spec`` (e.g. a parsed prompt): two agents are
    TwoAgents, a reach task Reach, a push task PushBox, a slab Occlusion, anything else Playground."""
    if len(spec.agents) > 1:
        return "WorldSim/TwoAgents-v0"
    if spec.task is not None and spec.task.reach:
        return "WorldSim/Reach-v0"
    if spec.task is not None:
        return "WorldSim/PushBox-v0"
    return "WorldSim/Occlusion-v0" if spec.slab is not None else "WorldSim/Playground-v0"


def register_envs() -> None:
    """Register the ground-truth scenes with Gymnasium; ids already registered are left alone."""
    for env_id, (entry_point, max_steps) in GT_ENVS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, max_episode_steps=max_steps)


def register_learned_envs() -> None:
    """Register ``WorldSim/<Scene>-Learned-v0``, the same scenes simulated by the learned model, for
    every ground-truth scene. Entry points are strings: the model code (and torch) loads only when
    one of them is made."""
    for gt_id, (_, max_steps) in GT_ENVS.items():
        learned_id = gt_id.replace("-v0", "-Learned-v0")
        if learned_id not in gym.registry:
            gym.register(id=learned_id, entry_point="worldsim.envs.learned:LearnedEnv",
                         vector_entry_point="worldsim.envs.learned:make_learned_vector_env",
                         max_episode_steps=max_steps, kwargs={"scene": gt_id})


register_envs()
register_learned_envs()

__all__ = [
    "AGENT_COLOR",
    "AGENT_COLORS",
    "GT_ENVS",
    "PALETTE",
    "AgentSpec",
    "ArenaSpec",
    "GoalSpec",
    "ObjectSpec",
    "OcclusionEnv",
    "PlaygroundEnv",
    "PromptError",
    "PushBoxEnv",
    "PushBoxHeavyEnv",
    "ReachEnv",
    "SceneSpec",
    "SlabSpec",
    "TaskSpec",
    "TwoAgentsEnv",
    "WorldSimEnv",
    "canonical_prompt",
    "caption",
    "parse_prompt",
    "register_envs",
    "register_learned_envs",
    "render_palette",
    "render_scenery_colors",
    "scene_env_id",
    "world_to_pixel",
]
