"""Long rollouts against MuJoCo: does the world hold together for 600 steps?

    .venv/bin/python benchmarks/long_horizon.py --compare runs/before/model --json outputs/long_horizon.json

Runs ``worldsim check`` on held-out seeds, pooled over ``--samples`` sampling seeds, for the
checkpoint, the ``--compare`` checkpoint (each with its own recorded rollout settings) and
repeating the last true frame:

* **playground_600**: Playground with random actions for 600 steps (60 s): the share of the
  ground truth's visible objects that the generation still shows (``objects kept``) and the
  colour-histogram distance to the true frame, at steps 16 to 600;
* **pushbox_64**: PushBox, open loop for 64 steps: the centroid error of the objects that have moved
  (pixels), at every horizon from 1 to 64, and how many horizons beat repeating the last frame;
* **occlusion**: Occlusion for 16 steps, and for ``--long-occlusion`` steps, longer than the
  attention window, so that an object stays under the slab for longer than the model can see back.

Every figure comes from the rollouts of this run; nothing is typed in. Plots and side-by-side
videos of each check go under ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from worldsim.check import CheckConfig, check
from worldsim.report import write_json

KEPT_AT = (16, 64, 100, 300, 600)
PUSHBOX_AT = (1, 4, 8, 16, 32, 48, 64)


def _at(stats: dict, h: int) -> float | None:
    values = stats["mean"]
    return values[h - 1] if h <= len(values) else None


def _sides(report: dict) -> dict[str, dict]:
    sides = {"model": report["model"], "repeat_last": report["baseline"]}
    if "compare" in report:
        sides["compare"] = report["compare"]
    return sides


def playground(report: dict) -> dict[str, Any]:
    out = {}
    for side, s in _sides(report).items():
        out[side] = {f"objects_kept_h{h}": _at(s["permanence"], h) for h in KEPT_AT}
        out[side].update({f"histogram_h{h}": _at(s["color_histogram_distance"], h) for h in (16, 600)})
    return out


def pushbox(report: dict) -> dict[str, Any]:
    out = {}
    base = np.array([np.nan if v is None else v for v in report["baseline"]["centroid_error_moved_px"]["mean"]])
    for side, s in _sides(report).items():
        err = np.array([np.nan if v is None else v for v in s["centroid_error_moved_px"]["mean"]])
        out[side] = {f"moved_px_h{h}": _at(s["centroid_error_moved_px"], h) for h in PUSHBOX_AT}
        out[side]["moved_px_h17-64"] = round(float(np.nanmean(err[16:64])), 3)
        if side != "repeat_last":
            out[side]["horizons_ahead_of_repeat_last"] = int(np.sum(err < base))
            out[side]["objects_kept_h64"] = _at(s["permanence"], 64)
    return out


def occlusion(report: dict, horizon: int) -> dict[str, Any]:
    return {side: {f"objects_kept_h{h}": _at(s["permanence"], h) for h in sorted({16, horizon})}
            | {"objects_kept_mean": round(float(np.nanmean([v for v in s["permanence"]["mean"] if v is not None])), 4)}
            for side, s in _sides(report).items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", default=None, help="checkpoint to check (default: the shipped one)")
    p.add_argument("--compare", default=None, help="a second checkpoint scored in the same run")
    p.add_argument("--samples", type=int, default=3, help="sampling seeds pooled per check")
    p.add_argument("--playground-episodes", type=int, default=8)
    p.add_argument("--pushbox-episodes", type=int, default=16)
    p.add_argument("--occlusion-episodes", type=int, default=16)
    p.add_argument("--long-occlusion", type=int, default=48, help="steps of the long occlusion check")
    p.add_argument("--only", nargs="*", default=None, choices=["playground_600", "pushbox_64", "occlusion"])
    p.add_argument("--out", default="outputs/long_horizon", help="plots and videos")
    p.add_argument("--json", default=None, help="write the summary here (default: OUT/summary.json)")
    args = p.parse_args()
    out = Path(args.out)
    run = lambda name, **kw: check(CheckConfig(checkpoint=args.checkpoint, compare=args.compare, samples=args.samples,
                                               out=str(out / name), json=str(out / f"{name}.json"), videos=2, **kw))
    summary: dict[str, Any] = {"checkpoint": args.checkpoint, "compare": args.compare, "samples": args.samples}
    todo = set(args.only or ["playground_600", "pushbox_64", "occlusion"])
    if "playground_600" in todo:
        r = run("playground_600", env="WorldSim/Playground-v0", policy="random", episodes=args.playground_episodes,
                horizon=600, seed=2_000_000)
        summary["playground_600"] = playground(r)
        summary["hash"] = r["checkpoint"]["hash"]
    if "pushbox_64" in todo:
        r = run("pushbox_64", env="WorldSim/PushBox-v0", episodes=args.pushbox_episodes, horizon=64, seed=3_000_000)
        summary["pushbox_64"] = pushbox(r)
        summary["hash"] = r["checkpoint"]["hash"]
    if "occlusion" in todo:
        for name, horizon in (("occlusion_16", 16), ("occlusion_long", args.long_occlusion)):
            r = run(name, env="WorldSim/Occlusion-v0", episodes=args.occlusion_episodes, horizon=horizon,
                    seed=2_000_000)
            summary[name] = occlusion(r, horizon)
    write_json(args.json or out / "summary.json", summary)
    print(write_summary_table(summary))


def write_summary_table(summary: dict) -> str:
    """The summary as a Markdown table: one row per figure, one column per side."""
    sides = ["model", "compare", "repeat_last"]
    lines = ["| check | figure | " + " | ".join(sides) + " |", "|---|---|" + "---|" * len(sides)]
    for check_name, rows in summary.items():
        if not isinstance(rows, dict) or "model" not in rows:
            continue
        for figure in rows["model"]:
            cells = [rows.get(side, {}).get(figure) for side in sides]
            lines.append(f"| {check_name} | {figure} | " + " | ".join("" if c is None else f"{c:.3g}" for c in cells)
                         + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
