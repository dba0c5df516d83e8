"""Ground-truth throughput: MuJoCo step + 64x64 render steps/s of the WorldSim scenes, in one process.

    MUJOCO_GL=egl python benchmarks/gt_throughput.py                       # all four scenes
    MUJOCO_GL=egl python benchmarks/gt_throughput.py --env-ids WorldSim/PushBox-v0 --steps 2000

Every ``env.step`` runs ``FRAME_SKIP`` physics steps (0.1 s of simulated time) and renders the
observation, so steps/s here is "step + render". Actions are drawn from the seeded action space
before timing starts. Resets are timed separately (each compiles the new scene's MJCF) and the
figure with resets counted is reported too. ``measure_gt_throughput`` returns a dict for
``worldsim bench``.
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import json
import platform
import time
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym


def _machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "mujoco_gl": os.environ.get("MUJOCO_GL"),
    }


def measure_gt_throughput(
    env_id: str = "WorldSim/PushBox-v0", steps: int = 1000, *, seed: int = 0
) -> dict[str, Any]:
    """Time ``steps`` env steps (physics + render) of a ground-truth scene in this process.

    Args:
        env_id: A registered ``WorldSim/<Scene>-v0`` id (any ``rgb_array`` Gymnasium env works).
        steps: Timed steps; episodes are reset (untimed, counted separately) when they end.
        seed: Seeds the first reset and the random actions.

    Returns:
        ``{"env_id", "steps", "seconds", "steps_per_s", "ms_per_step", "resets", "reset_ms",
        "steps_per_s_with_resets", "machine"}``.
    """
    import envs  # noqa: F401  (registers the WorldSim ids)

    if steps < 1:
        raise ValueError(f"steps={steps}; time at least one step")
    env = gym.make(env_id, render_mode="rgb_array")
    try:
        env.action_space.seed(seed)
        actions = [env.action_space.sample() for _ in range(steps)]
        env.reset(seed=seed)
        for _ in range(10):  # warm-up: first renders allocate GL buffers
            env.step(env.action_space.sample())
        env.reset(seed=seed)
        step_time, reset_time, resets = 0.0, 0.0, 0
        for action in actions:
            t0 = time.perf_counter()
            _, _, terminated, truncated, _ = env.step(action)
            step_time += time.perf_counter() - t0
            if terminated or truncated:
                t0 = time.perf_counter()
                env.reset()
                reset_time += time.perf_counter() - t0
                resets += 1
    finally:
        env.close()
    return {
        "env_id": env_id,
        "steps": steps,
        "seconds": step_time,
        "steps_per_s": steps / step_time,
        "ms_per_step": 1e3 * step_time / steps,
        "resets": resets,
        "reset_ms": 1e3 * reset_time / resets if resets else None,
        "steps_per_s_with_resets": steps / (step_time + reset_time),
        "machine": _machine(),
    }


@dataclass
class Args:
    """Measure GT step + render throughput for each scene."""

    env_ids: list[str] = field(
        default_factory=lambda: [
            "WorldSim/Playground-v0",
            "WorldSim/PushBox-v0",
            "WorldSim/Occlusion-v0",
            "WorldSim/TwoAgents-v0",
        ]
    )
    """Gymnasium ids to time."""
    steps: int = 1000
    """Timed steps per env."""
    seed: int = 0
    """Seed of the first reset and the actions."""
    json: str | None = None
    """Also write the results to this JSON file."""


def main(args: Args) -> list[dict[str, Any]]:
    """Run :func:`measure_gt_throughput` for every id and print one line each."""
    results = [measure_gt_throughput(env_id, args.steps, seed=args.seed) for env_id in args.env_ids]
    for r in results:
        resets = f"{r['resets']} resets at {r['reset_ms']:.1f} ms" if r["resets"] else "no resets"
        print(
            f"{r['env_id']:<26} {r['steps_per_s']:8.0f} steps/s ({r['ms_per_step']:.2f} ms/step); "
            f"{resets}; {r['steps_per_s_with_resets']:.0f} steps/s with resets"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    import tyro

    main(tyro.cli(Args))
