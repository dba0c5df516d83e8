"""Frames per second of each view of ``worldsim play`` at batch 1, through the play session itself.

    .venv/bin/python benchmarks/play_speed.py --steps 40 [--threads N] [--checkpoint DIR] [--json FILE]

For each sampling-step setting the page offers, one session resets and takes ``--steps`` steps with
a scripted push; reported per view are the step times of MuJoCo and of the learned simulator, and the
whole request (both sims, the centroid error and three PNGs), as median milliseconds and the frames
per second they allow. The first ``--warmup`` steps are left out. On a CPU that another job keeps
busy, ``--threads 1`` can be much faster than torch's default of one thread per core.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from worldsim.play.session import SAMPLING_STEPS, PlaySession, PlaySettings
from worldsim.report import write_json


def measure(settings: PlaySettings, steps: int, warmup: int) -> dict:
    """Median step times (ms) of one session over ``steps`` steps after ``warmup``."""
    session = PlaySession(settings)
    try:
        session.handle(json.dumps({"type": "reset"}))
        times: dict[str, list[float]] = {"mujoco": [], "learned": [], "request": []}
        for i in range(warmup + steps):
            t0 = time.perf_counter()
            frame = session.handle(json.dumps({"type": "step", "action": [1.0 if i % 20 < 10 else -1.0, 0.3]}))
            total = 1000 * (time.perf_counter() - t0)
            if frame["type"] != "frame":
                raise RuntimeError(frame["message"])
            if i >= warmup:
                times["mujoco"].append(frame["ms"]["mujoco"])
                times["learned"].append(frame["ms"]["learned"])
                times["request"].append(total)
    finally:
        session.close()
    out = {}
    for key, values in times.items():
        ms = statistics.median(values)
        out[key] = {"median_ms": round(ms, 2), "frames_per_s": round(1000 / ms, 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="world-model checkpoint (default: the shipped one)")
    parser.add_argument("--env", default="WorldSim/PushBox-v0")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results = {"env": args.env, "batch": 1, "torch_threads": torch.get_num_threads(), "by_sampling_steps": {}}
    for k in SAMPLING_STEPS:
        settings = PlaySettings(env=args.env, checkpoint=args.checkpoint, sampling_steps=k)
        results["by_sampling_steps"][str(k)] = measure(settings, args.steps, args.warmup)
        print(k, json.dumps(results["by_sampling_steps"][str(k)]), flush=True)
    if args.json:
        write_json(args.json, results)


if __name__ == "__main__":
    main()
