"""Budget-matched comparison: PPO trained in the learned simulator against PPO trained in MuJoCo.

    .venv/bin/python benchmarks/dream_to_real.py --json benchmarks/dream_to_real.json

B is the number of real MuJoCo steps behind the world model's training data (read from the
checkpoint: frames stored minus first frames). Every row is scored in the ground-truth scene over the
same seeded episodes (``agents/evaluate.py``'s protocol):

* ``random``: the random policy;
* ``dream``: PPO trained only in ``WorldSim/PushBox-Learned-v0`` (no real steps beyond B);
* ``gt_B``: PPO trained in ``WorldSim/PushBox-v0`` for B steps;
* ``gt_10B``: PPO trained in ``WorldSim/PushBox-v0`` for ``ref_multiple`` x B steps, a reference
  (``--ref-multiple 0`` leaves it out).

dream-to-real = (R_dream - R_random) / (R_gt_B - R_random).

Each finished row leaves ``out/<row>/summary.json``; a rerun with the same settings (for the dream row,
the same checkpoint weights) skips it, so an interrupted comparison resumes row by row.
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import envs  # noqa: E402, F401  (registers WorldSim/*)
from agents import ppo  # noqa: E402
from agents.evaluate import evaluate  # noqa: E402
from worldsim.checkpoint import checkpoint_hash  # noqa: E402
from worldsim.fileio import atomic_write_json  # noqa: E402
from worldsim.report import write_json  # noqa: E402
from worldsim.worldmodel import default_checkpoint  # noqa: E402

GT_ID, LEARNED_ID = "WorldSim/PushBox-v0", "WorldSim/PushBox-Learned-v0"


def real_steps_behind(checkpoint: str | os.PathLike) -> int:
    """Real env steps that produced the checkpoint's training data (frames minus first frames)."""
    meta = json.loads((Path(checkpoint) / "config.json").read_text()).get("meta", {})
    if "frames" not in meta or "episodes" not in meta:
        raise ValueError(f"{checkpoint}: config.json meta lacks 'frames'/'episodes'; pass --budget explicitly")
    return int(meta["frames"]) - int(meta["episodes"])


def run_row(name: str, out: Path, settings: dict, run) -> dict:
    """Run one row unless ``out/name/summary.json`` already holds it with the same settings."""
    path = out / name / "summary.json"
    if path.is_file():
        done = json.loads(path.read_text())
        if done.get("settings") == settings:
            print(f"{name}: already done ({path})")
            return done
    start = time.perf_counter()
    result = run()
    row = {"settings": settings, "seconds": round(time.perf_counter() - start, 1),
           "mean_return": result["mean_return"], "std_return": result["std_return"],
           "success_rate": result["success_rate"]}
    atomic_write_json(path, row)
    print(f"{name}: return {row['mean_return']:.3f} ± {row['std_return']:.3f}, "
          f"success {row['success_rate']}, {row['seconds']:.0f} s")
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", default=None, help="world model (default: the shipped checkpoint)")
    p.add_argument("--budget", type=int, default=None, help="B, real steps (default: read from the checkpoint)")
    p.add_argument("--dream-steps", type=int, default=60_000, help="PPO steps inside the learned simulator")
    p.add_argument("--ref-multiple", type=int, default=10,
                   help="the reference row trains ref_multiple x B GT steps (0 leaves it out)")
    p.add_argument("--eval-episodes", type=int, default=30)
    p.add_argument("--max-episode-steps", type=int, default=100)
    p.add_argument("--num-envs", type=int, default=16)
    p.add_argument("--sampling-steps", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/dream_to_real")
    p.add_argument("--json", default="benchmarks/dream_to_real.json")
    a = p.parse_args()

    checkpoint = str(a.checkpoint or default_checkpoint())
    weights = checkpoint_hash(checkpoint)
    budget = a.budget or real_steps_behind(checkpoint)
    out = Path(a.out)
    eval_seed = 10_000  # episodes the world model never saw (collection seeds start at 0)
    score = dict(episodes=a.eval_episodes, seed=eval_seed, max_episode_steps=a.max_episode_steps)

    def train(env_id: str, steps: int, name: str):
        args = ppo.Args(env_id=env_id, checkpoint=checkpoint, num_envs=a.num_envs, total_timesteps=steps,
                        sampling_steps=a.sampling_steps, max_episode_steps=a.max_episode_steps, eval_every=0,
                        eval_episodes=a.eval_episodes, eval_seed=eval_seed, seed=a.seed, out=str(out / name),
                        device="cpu")
        return lambda: ppo.train(args)

    rows = {
        "random": run_row("random", out, {"policy": "random", **score},
                          lambda: evaluate("random", GT_ID, **score)),
        "dream": run_row("dream", out, {"env": LEARNED_ID, "steps": a.dream_steps, "checkpoint": checkpoint,
                                        "checkpoint_hash": weights, **score},
                         train(LEARNED_ID, a.dream_steps, "dream")),
        "gt_B": run_row("gt_B", out, {"env": GT_ID, "steps": budget, **score}, train(GT_ID, budget, "gt_B")),
    }
    if a.ref_multiple > 0:
        ref = budget * a.ref_multiple
        rows[f"gt_{a.ref_multiple}B"] = run_row(f"gt_{a.ref_multiple}B", out, {"env": GT_ID, "steps": ref, **score},
                                                train(GT_ID, ref, f"gt_{a.ref_multiple}B"))
    r_random, r_dream, r_gt = (rows[k]["mean_return"] for k in ("random", "dream", "gt_B"))
    gap = r_gt - r_random
    report = {
        "budget_real_steps": budget,
        "checkpoint": checkpoint,
        "checkpoint_hash": weights,
        "rows": rows,
        "dream_to_real": (r_dream - r_random) / gap if abs(gap) > 1e-9 else None,
        "command": "benchmarks/dream_to_real.py " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(a).items()
                                                             if v is not None),
    }
    write_json(a.json, report)
    print(f"dream-to-real = {report['dream_to_real']}")


if __name__ == "__main__":
    main()
