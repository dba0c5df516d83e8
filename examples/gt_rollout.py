"""Run one ground-truth PushBox episode with the scripted policy and save it as mp4 and gif.

    python examples/gt_rollout.py
    python examples/gt_rollout.py --prompt "a red box on the left; the goal is at the top right"

The env is an ordinary Gymnasium env: ``reset`` gives a 64x64 top-down frame and an ``info`` with
the scene's caption and every object's position; ``scripted_action`` walks the white agent behind
the box and pushes it towards the goal (the slate square on the floor).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import tyro

from worldsim import envs  # noqa: F401  (registers WorldSim/*)


@dataclass
class Args:
    """Save a scripted GT rollout as a video."""

    env_id: str = "WorldSim/PushBox-v0"
    """Ground-truth scene to run."""
    seed: int = 0
    """Seed of the scene and of the policy."""
    prompt: str | None = None
    """Optional scene description, e.g. "a red box on the left; the goal is at the top right"."""
    steps: int = 200
    """Maximum steps (the episode ends earlier when the box reaches the goal)."""
    scale: int = 4
    """Nearest-neighbour upscaling of the 64x64 frames for viewing."""
    out: Path = Path("outputs/gt_rollout")
    """Output path without extension; writes OUT.mp4 and OUT.gif."""


def main(args: Args) -> None:
    env = gym.make(args.env_id, max_episode_steps=args.steps)
    options = {"prompt": args.prompt} if args.prompt else None
    obs, info = env.reset(seed=args.seed, options=options)
    print(info["caption"])
    rng = np.random.default_rng(args.seed)
    frames, total = [obs], 0.0
    terminated = truncated = False
    while not (terminated or truncated):
        obs, reward, terminated, truncated, info = env.step(env.unwrapped.scripted_action(rng))
        frames.append(obs)
        total += reward
    env.close()
    video = np.stack(frames).repeat(args.scale, axis=1).repeat(args.scale, axis=2)  # (T+1, 64s, 64s, 3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fps = env.metadata["render_fps"]
    imageio.mimwrite(args.out.with_suffix(".mp4"), video, fps=fps)
    imageio.mimwrite(args.out.with_suffix(".gif"), video, duration=1000 / fps, loop=0)
    outcome = "reached the goal" if terminated else "ran out of steps"
    print(f"{len(frames) - 1} steps, return {total:.1f}, {outcome}; wrote {args.out}.mp4 and {args.out}.gif")


if __name__ == "__main__":
    main(tyro.cli(Args))
