"""Score a policy in a ground-truth MuJoCo scene: mean ± std return and success rate over seeded episodes.

    python -m worldsim.agents.evaluate --policy runs/ppo/policy.safetensors --episodes 50 \
        --video runs/ppo/video --out runs/ppo/eval.json
    python -m worldsim.agents.evaluate --policy random --episodes 50 --out runs/random/eval.json
    python -m worldsim.agents.evaluate --help

Episode i is reset with seed ``seed + i``, so policies scored with the same ``seed`` and ``episodes``
face the same starting scenes. Policy actions are deterministic (the mode of the action distribution);
the random baseline samples the action space, seeded per episode. Success is ``info["is_success"]``
at the end of an episode, for envs that report it.

A ``.safetensors`` policy (what ``agents/ppo.py`` writes beside its ``.zip``) loads without unpickling
anything (:mod:`worldsim.agents.policy_file`). Loading a policy ``.zip`` goes through stable-baselines3,
which unpickles parts of the file: only load zips you trained yourself or otherwise trust.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import tyro
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import BasePolicy

from worldsim import envs  # noqa: F401  (registers WorldSim/*)
from worldsim.agents.policy_file import SHIPPED, load_policy_file
from worldsim.checkpoint import atomic_write_json, file_sha256
from worldsim.report import write_video

#: SB3 algorithms a saved policy can come from (``--algo``).
ALGOS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "sac": SAC}

Policy = BaseAlgorithm | BasePolicy | str | os.PathLike


@dataclass
class Args:
    policy: str = "runs/ppo/policy.safetensors"
    """Saved policy: a policy file (.safetensors, loads without unpickling), an SB3 .zip (unpickled:
    trusted files only), the name of a shipped policy (reach: trained in the learned simulator only), or
    random for the random baseline."""
    algo: Literal["ppo", "sac"] = "ppo"
    """Algorithm that saved a .zip policy."""
    env_id: str = "WorldSim/PushBox-v0"
    """Environment to score in (the real MuJoCo scene)."""
    episodes: int = 10
    """Number of seeded episodes."""
    seed: int = 0
    """Episode i is reset with seed + i."""
    max_episode_steps: int | None = None
    """Episode cap; None keeps the env's registered limit."""
    video: str | None = None
    """Path stem for a video of the first episode (writes .mp4, .gif and .provenance.json); None for none."""
    out: str | None = None
    """JSON file for the result; None only prints it."""
    device: str = "auto"
    """Torch device for the policy."""


def _check_request(env_id: str, episodes: int) -> None:
    if env_id not in gym.registry:
        known = sorted(k for k in gym.registry if k.startswith("WorldSim/"))
        raise ValueError(f"unknown env id {env_id!r}; registered WorldSim ids: {known}")
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")


def load_policy(policy: Policy, algo: str = "ppo", device: str = "auto") -> BaseAlgorithm | BasePolicy | None:
    """The SB3 model or policy behind ``policy`` (a loaded one, a policy file or a ``.zip``); None for
    ``"random"``."""
    if isinstance(policy, (BaseAlgorithm, BasePolicy)):
        return policy
    if str(policy) == "random":
        return None
    if algo not in ALGOS:
        raise ValueError(f"unknown algo {algo!r}; choose one of {sorted(ALGOS)}")
    path = Path(policy)
    if not path.is_file() and str(policy) in SHIPPED:
        path = SHIPPED[str(policy)]
    if not path.is_file():
        raise FileNotFoundError(f"no policy at {path}: pass a .safetensors or .zip saved by agents/ppo.py, the "
                                f"name of a shipped policy ({', '.join(SHIPPED)}), or 'random'")
    if path.suffix == ".safetensors":
        return load_policy_file(path, device=device)
    return ALGOS[algo].load(path, device=device)


def run_episode(env: gym.Env, model: BaseAlgorithm | BasePolicy | None, seed: int,
                record: bool = False) -> tuple[float, int, bool | None, list[np.ndarray]]:
    """One seeded episode; returns (return, length, is_success or None, frames if ``record``)."""
    obs, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    frames = [env.render()] if record else []
    total, length, done = 0.0, 0, False
    while not done:
        action = env.action_space.sample() if model is None else model.predict(obs, deterministic=True)[0]
        obs, reward, terminated, truncated, info = env.step(action)
        total, length, done = total + float(reward), length + 1, terminated or truncated
        if record:
            frames.append(env.render())
    success = info.get("is_success")
    return total, length, None if success is None else bool(success), frames


def evaluate(policy: Policy, env_id: str = "WorldSim/PushBox-v0", *, episodes: int = 10, seed: int = 0,
             max_episode_steps: int | None = None, video: str | os.PathLike | None = None, algo: str = "ppo",
             device: str = "auto") -> dict[str, Any]:
    """Score ``policy`` over ``episodes`` seeded episodes of ``env_id``.

    Args:
        policy: A loaded SB3 model or policy, a policy file (``.safetensors``), a saved ``.zip`` (unpickled
            by SB3: trusted files only), or ``"random"``.
        env_id: Registered env id, normally a ground-truth scene.
        episodes: Number of episodes; episode i is reset with seed ``seed + i``.
        seed: First episode seed.
        max_episode_steps: Episode cap; None keeps the registered limit.
        video: Path stem for a video of the first episode (mp4, gif and provenance sidecar).
        algo: Algorithm of a saved ``.zip``, a key of ``ALGOS``.
        device: Torch device for the policy.

    Returns:
        ``mean_return``, ``std_return``, ``success_rate`` (None when the env reports no
        ``is_success``), per-episode ``returns`` and ``lengths``, and the settings used.
    """
    _check_request(env_id, episodes)
    model = load_policy(policy, algo, device)
    kwargs = {} if max_episode_steps is None else {"max_episode_steps": max_episode_steps}
    env = gym.make(env_id, render_mode="rgb_array", **kwargs)
    returns, lengths, successes, frames = [], [], [], []
    try:
        for i in range(episodes):
            ret, length, success, ep_frames = run_episode(env, model, seed + i, record=video is not None and i == 0)
            returns.append(ret)
            lengths.append(length)
            successes.append(success)
            frames = frames or ep_frames
    finally:
        env.close()
    known = [s for s in successes if s is not None]
    result: dict[str, Any] = {
        "env_id": env_id,
        "policy": "random" if model is None else _describe(policy),
        "episodes": episodes,
        "seed": seed,
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "success_rate": float(np.mean(known)) if known else None,
        "returns": returns,
        "lengths": lengths,
    }
    if video is not None:
        provenance = {"source": f"{env_id} (MuJoCo ground truth)", "policy": result["policy"], "seed": seed}
        if isinstance(policy, (str, os.PathLike)) and model is not None:
            provenance["policy_sha256"] = file_sha256(policy)
        result["video"] = [str(p) for p in write_video(video, np.stack(frames), provenance)]
    return result


def _describe(policy: Policy) -> str:
    return type(policy).__name__ if isinstance(policy, (BaseAlgorithm, BasePolicy)) else str(policy)


def main() -> None:
    args = tyro.cli(Args)
    result = evaluate(args.policy, args.env_id, episodes=args.episodes, seed=args.seed,
                      max_episode_steps=args.max_episode_steps, video=args.video, algo=args.algo, device=args.device)
    if args.out is not None:
        atomic_write_json(args.out, result)
    success = "n/a" if result["success_rate"] is None else f"{result['success_rate']:.2f}"
    print(json.dumps({k: v for k, v in result.items() if k not in ("returns", "lengths")}, indent=2))
    print(f"return {result['mean_return']:.3f} ± {result['std_return']:.3f}, success {success} "
          f"over {args.episodes} episodes of {args.env_id}")


if __name__ == "__main__":
    main()
