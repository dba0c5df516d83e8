"""Batched throughput of the learned simulator on a CUDA device, beside MuJoCo on the host's CPUs.

    make bench-gpu                                   # on a machine with a CUDA GPU
    .venv/bin/python benchmarks/gpu_throughput.py --dry-run --json /tmp/gpu.json   # CPU, tiny, seconds

For each precision (float32, and bfloat16 under autocast), batch size and number of sampling steps,
the KV-cached simulator is stepped until its cache holds a full window, then timed; the figure is
env steps per second over all rollouts, and what one simulated minute (600 steps) costs. MuJoCo is
timed in this process (physics and render of one scene) and scaled by the host's cores, the most a
CPU fleet of single-threaded scenes on that host could do. Rows are written as they finish, and rows
that would start after ``--budget-s`` are skipped (and listed), so the whole run fits one
10-minute command.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from worldsim.bench import SIM_MINUTE, measure_gt_throughput
from worldsim.diffusion import SamplerConfig
from worldsim.report import machine, write_json
from worldsim.simulator import Simulator, SimulatorConfig
from worldsim.worldmodel import WorldModel, default_checkpoint


def step_rate(model: WorldModel, batch: int, steps: int, dtype: str, device: str, repeats: int) -> dict:
    """Env steps/s of ``batch`` rollouts after the cache has filled, and the memory they hold."""
    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)  # the peak of this row, not of every row so far
    sim = Simulator(model, batch, SimulatorConfig(sampler=SamplerConfig(steps=steps), dtype=dtype), device)
    rng = np.random.default_rng(0)
    sim.reset(context_frames=rng.integers(0, 256, (batch, 1, *sim.frame_shape), dtype=np.uint8), seed=0)
    actions = np.zeros((batch, sim.action_dim), np.float32)
    sync = torch.cuda.synchronize if sim.device.type == "cuda" else (lambda: None)
    for _ in range(sim.window + 1):  # fill the window; the first passes also warm the kernels up
        sim.step(actions)
    sync()
    t0 = time.perf_counter()
    for _ in range(repeats):
        sim.step(actions)
    sync()
    sec = (time.perf_counter() - t0) / repeats
    peak = torch.cuda.max_memory_allocated(sim.device) if sim.device.type == "cuda" else None
    return {"batch": batch, "sampling_steps": steps, "dtype": dtype, "step_ms": round(1000 * sec, 2),
            "env_steps_per_s": round(batch / sec, 1), "sim_minute_wall_s": round(SIM_MINUTE * sec / batch, 5),
            "kv_cache_mb": round(sim.cache_nbytes() / 2**20, 1),
            "peak_gpu_mb": round(peak / 2**20, 1) if peak is not None else None}


def mujoco_rate(steps: int) -> dict:
    """MuJoCo's steps/s on this host (one process, and scaled by its cores), or why it could not be timed
    (a GPU host without MuJoCo's rendering libraries still measures the learned simulator)."""
    try:
        gt = measure_gt_throughput("WorldSim/PushBox-v0", steps)
    except Exception as e:  # noqa: BLE001 - whatever stops MuJoCo here, the model's rows are still wanted
        return {"error": f"{type(e).__name__}: {e}"}
    cores = os.cpu_count() or 1
    return {"steps_per_s_one_process": round(gt["steps_per_s_with_resets"], 1), "host_cores": cores,
            "steps_per_s_all_cores": round(gt["steps_per_s_with_resets"] * cores, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", default=None, help="world model (default: the shipped checkpoint)")
    p.add_argument("--device", default="cuda")
    p.add_argument("--batches", type=int, nargs="+", default=[256, 1024, 4096])
    p.add_argument("--sampling-steps", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--dtypes", nargs="+", default=["bfloat16", "float32"])
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--gt-steps", type=int, default=1000, help="MuJoCo steps timed")
    p.add_argument("--budget-s", type=float, default=480.0, help="no new row starts after this many seconds")
    p.add_argument("--dry-run", action="store_true", help="CPU, batches 1 and 2, one sampling step: checks the path")
    p.add_argument("--json", default="outputs/gpu_throughput.json")
    a = p.parse_args()
    if a.dry_run:
        a.device, a.batches, a.sampling_steps, a.repeats, a.gt_steps = "cpu", [1, 2], [1], 1, 20
    elif not torch.cuda.is_available():
        raise SystemExit("no CUDA device here; run with --dry-run to check the script on a CPU")

    start = time.perf_counter()
    model = WorldModel.load(a.checkpoint or default_checkpoint())
    report = {"checkpoint": model.checkpoint_hash, "device": str(a.device), "machine": machine(),
              "gpu": torch.cuda.get_device_name() if a.device.startswith("cuda") else None,
              "mujoco": mujoco_rate(a.gt_steps), "rows": [], "skipped": []}
    for dtype in a.dtypes:
        for steps in a.sampling_steps:
            for batch in a.batches:
                if time.perf_counter() - start > a.budget_s:
                    report["skipped"].append({"dtype": dtype, "sampling_steps": steps, "batch": batch})
                    continue
                try:
                    row = step_rate(model, batch, steps, dtype, a.device, a.repeats)
                except torch.OutOfMemoryError:
                    row = {"batch": batch, "sampling_steps": steps, "dtype": dtype, "error": "out of memory"}
                    torch.cuda.empty_cache()
                fleet = report["mujoco"].get("steps_per_s_all_cores")
                if "env_steps_per_s" in row and fleet:
                    row["vs_mujoco_all_cores"] = round(row["env_steps_per_s"] / fleet, 3)
                report["rows"].append(row)
                print(row, flush=True)
                write_json(a.json, report)
    best = max((r for r in report["rows"] if "env_steps_per_s" in r), key=lambda r: r["env_steps_per_s"], default=None)
    report["best"] = best
    report["seconds"] = round(time.perf_counter() - start, 1)
    write_json(a.json, report)
    print(f"best: {best}; MuJoCo {report['mujoco']}; written to {a.json}")


if __name__ == "__main__":
    main()
