"""Collection throughput: episodes/s and frames/s of ``worldsim.collect`` with K worker processes.

    MUJOCO_GL=egl python benchmarks/collect_throughput.py --env InvertedPendulum-v5 --episodes 16 --steps 50
    MUJOCO_GL=egl python benchmarks/collect_throughput.py --env WorldSim/PushBox-v0 --policy scripted

Each K runs a fresh collection into a temporary directory, so the times cover the whole job: worker
start-up (spawned processes import gymnasium/MuJoCo and make their env), step + render + resize,
compression and atomic writes. A frame is one stored image (T + 1 per episode of T steps).
``measure_collect_throughput`` returns the figures as a dict (``worldsim bench`` records it).
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import json
import platform
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from worldsim.collect import CollectConfig, collect
from worldsim.store import EpisodeStore


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def measure_collect_throughput(
    env_id: str = "InvertedPendulum-v5",
    *,
    episodes: int = 16,
    steps: int = 50,
    workers: Sequence[int] = (1, 2),
    policy: Literal["random", "scripted"] = "random",
    size: int = 64,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Collect the same episodes once per worker count and time each run.

    Args:
        env_id: Gymnasium id of an env with ``render_mode="rgb_array"``.
        episodes: Episodes per run.
        steps: Maximum steps per episode (episodes end earlier on termination).
        workers: Worker counts K to compare.
        policy: "random" or "scripted" (WorldSim scenes).
        size: Stored frame size.
        seed: Collection seed (all runs collect the same episodes).
        env_kwargs: Extra ``gymnasium.make`` arguments.

    Returns:
        {"benchmark", "env_id", "policy", "episodes", "steps", "size", "machine", "identical_across_workers"
        (every K wrote byte-identical episode files), "results": [{"workers", "episodes", "frames", "seconds",
        "episodes_per_s", "frames_per_s", "bytes_per_frame"}, ...]}.
    """
    results, hashes = [], []
    with tempfile.TemporaryDirectory(prefix="worldsim-bench-") as tmp:
        for k in workers:
            out = Path(tmp) / f"workers{k}"
            cfg = CollectConfig(
                env_id, episodes, steps, policy, str(out), workers=k, seed=seed, size=size,
                env_kwargs=dict(env_kwargs or {}), progress=False,
            )  # fmt: skip
            summary = collect(cfg)
            manifest = EpisodeStore(out).manifest
            stored = sum(e["bytes"] for e in manifest["episodes"])
            hashes.append([e["sha256"] for e in manifest["episodes"]])
            results.append(
                {
                    "workers": k,
                    "episodes": summary["collected"],
                    "frames": summary["frames_collected"],
                    "seconds": round(summary["seconds"], 3),
                    "episodes_per_s": round(summary["episodes_per_s"], 2),
                    "frames_per_s": round(summary["frames_per_s"], 1),
                    "bytes_per_frame": round(stored / max(manifest["num_frames"], 1), 1),
                }
            )
    return {
        "benchmark": "collect_throughput",
        "env_id": env_id,
        "policy": policy,
        "episodes": episodes,
        "steps": steps,
        "size": size,
        "machine": machine(),
        "identical_across_workers": all(h == hashes[0] for h in hashes),
        "results": results,
    }


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="InvertedPendulum-v5", help="Gymnasium id")
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--policy", choices=["random", "scripted"], default="random")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--env-kwargs", type=json.loads, default={}, help="JSON, e.g. '{\"width\": 96}'")
    args = parser.parse_args()
    result = measure_collect_throughput(
        args.env, episodes=args.episodes, steps=args.steps, workers=args.workers, policy=args.policy,
        size=args.size, env_kwargs=args.env_kwargs,
    )  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
