"""Every recorded figure of a checkpoint, measured in one run and kept in one summary file.

    .venv/bin/python benchmarks/results.py --json benchmarks/results.json     # make results: all of it
    .venv/bin/python benchmarks/results.py --only pushbox_64 occlusion_16       # a part, into outputs/
    .venv/bin/python benchmarks/results.py --summarize-only                     # rebuild from the reports
    .venv/bin/python benchmarks/results.py --only reach_policy --json benchmarks/results.json --merge
    .venv/bin/python benchmarks/results.py --compare shipped=outputs/results next=outputs/next \
        --out outputs/compare                                                    # checkpoints side by side
    .venv/bin/python benchmarks/results.py --compare shipped=benchmarks/results.json next=outputs/next \
        --out outputs/compare                                                    # beside a kept summary

Each check runs on held-out seeds and writes its full report (every horizon, every metric, plots,
side-by-side videos) under ``--out``; the summary keeps the figures the README's table shows, each
beside repeating the last true frame where that baseline applies, and the target it is measured
against. A rerun with ``--summarize-only`` rebuilds the summary from the reports already there, and
``--only`` re-measures some checks and keeps the other reports.

Checks (``worldsim check``, pooled over ``--samples`` sampling seeds):

* **next_frame**: PushBox, one step predicted from 4 true frames (the first step of a 4-step check: the
  objects that move within it count);
* **pushbox_64**: PushBox open loop for 64 steps: the centroid error of the objects that have moved
  (pixels), and at how many of the 64 horizons the model is ahead of repeating the last frame;
* **pushbox_64_int8**: the same with the DiT's linear layers in int8 (the fast CPU setting), to show
  what it costs in quality;
* **occlusion_16** and **occlusion_48**: the objects kept while one passes under the slab, within and
  beyond the attention window, and ``reappeared_placed``: the share of the objects back from under the
  slab that the model draws within 4 px of MuJoCo's (over every horizon);
* **playground_600**: Playground with random actions for 600 steps (60 s of simulated time): the
  objects kept and the colour-histogram distance to the true frames;

then **text** (``benchmarks/text_faithfulness.py``: frame 0 drawn from 200 prompts), **text_written**
(the same for the freely phrased prompts of ``benchmarks/prompts_written.txt``) and **speed**
(``worldsim bench``: steps per second against MuJoCo, the KV cache against recomputing the window)
and **reach_policy** (the shipped Reach policy, trained in the learned simulator only, scored in MuJoCo
beside a random policy on 100 episodes from seeds nothing was trained or scored on before).
``--compare NAME=DIR ...`` measures nothing: it sets the summaries of several ``--out`` directories
(one per checkpoint) side by side in one table, and draws the long-horizon curves of every checkpoint
over the same axes beside repeating the last frame (``OUT/compare.md``, ``OUT/*.png``). A summary file
(``NAME=benchmarks/results.json``) stands in for a directory whose reports are gone: its figures join the
table, and it has no curves to draw.

``make dream-to-real`` leaves its reports (agents scored in MuJoCo) beside them as ``dream_to_real.json``
and ``dream_loop.json`` (DIAMOND's loop, round by round); it takes hours, so only ``--summarize-only``
reads them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from worldsim.fileio import atomic_write_bytes
from worldsim.report import write_json

CHECKS = ("next_frame", "pushbox_64", "pushbox_64_int8", "occlusion_16", "occlusion_48", "playground_600")
SECTIONS = (*CHECKS, "text", "text_written", "speed", "reach_policy", "dream_to_real", "dream_loop")
BASELINES = ("repeat_last", "by_chance", "mujoco_frame", "mujoco", "mean_reward", "random")
"""What a figure is set beside, in the table's baseline column: repeating the last frame, a prompt's frame
scored against another prompt, MuJoCo's own frame or speed, the constant that predicts the mean reward,
a random policy."""
#: The shipped Reach policy's check: MuJoCo episodes from seeds no training or earlier score used.
REACH_POLICY = dict(policy="reach", env_id="WorldSim/Reach-v0", episodes=100, seed=50_000)
WRITTEN_PROMPTS = Path(__file__).with_name("prompts_written.txt")

#: The goals of the open issues, shown beside each figure (a direction and a level).
TARGETS: dict[str, str] = {
    "next_frame/error_px_h1": "< repeat last",
    "pushbox_64/moved_px_h16": "<= 4",
    "pushbox_64/moved_px_h64": "<= 8",
    "pushbox_64/horizons_ahead_of_repeat_last": "64 of 64",
    "occlusion_16/objects_kept_h16": ">= 0.97",
    "occlusion_48/objects_kept_h48": ">= 0.97",
    "playground_600/objects_kept_h600": ">= 0.95",
    "playground_600/objects_placed_h600": ">= 0.95",
    "playground_600/histogram_h600": "<= histogram_h16",
    "text/all_named_objects": ">= 0.95",
    "text/in_named_region": ">= 0.90",
    "text/no_unasked_colour": ">= 0.90",
    "text/agents_as_named": ">= 0.95",
    "text_written/all_named_objects": ">= 0.95",
    "text_written/in_named_region": ">= 0.90",
    "text_written/no_unasked_colour": ">= 0.90",
    "text_written/agents_as_named": ">= 0.95",
    "speed/steps_per_s_batch_1": ">= 60",
    "speed/steps_per_s_batched": ">= 300",
    "speed/steps_per_s_batch_1_int8": ">= 60",
    "speed/steps_per_s_batch_1_compiled": ">= 60",
    "pushbox_64_int8/moved_px_h16": "pushbox_64's, within noise",
    "speed/cache_speedup_w32": ">= 10",
    "dream_to_real/dream_to_real": ">= 0.8",
    "dream_to_real/success_dream": ">= 0.7",
    "reach_policy/success": ">= 0.7",
}


def _check_configs(episodes: dict[str, int]) -> dict[str, dict[str, Any]]:
    """The ``worldsim check`` settings of each check (held-out seeds no training data used)."""
    return {
        "next_frame": dict(env="WorldSim/PushBox-v0", episodes=episodes["pushbox"], context=4, horizon=4,
                           seed=3_000_000),
        "pushbox_64": dict(env="WorldSim/PushBox-v0", episodes=episodes["pushbox"], horizon=64, seed=3_000_000),
        "pushbox_64_int8": dict(env="WorldSim/PushBox-v0", episodes=episodes["pushbox"], horizon=64, seed=3_000_000,
                                quantize="int8"),
        "occlusion_16": dict(env="WorldSim/Occlusion-v0", episodes=episodes["occlusion"], horizon=16,
                             seed=3_000_000),
        "occlusion_48": dict(env="WorldSim/Occlusion-v0", episodes=episodes["occlusion"], horizon=48,
                             seed=3_000_000),
        "playground_600": dict(env="WorldSim/Playground-v0", policy="random", episodes=episodes["playground"],
                               horizon=600, seed=2_000_000),
    }


def _at(stats: dict, h: int) -> float | None:
    values = stats["mean"]
    return None if h > len(values) or values[h - 1] is None else round(values[h - 1], 4)


def _curve(stats: dict) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in stats["mean"]], dtype=float)


def _mean_over_horizons(stats: dict) -> float | None:
    """The mean of a metric's per-horizon means, over the horizons where it is defined."""
    curve = _curve(stats)
    return round(float(np.nanmean(curve)), 4) if np.isfinite(curve).any() else None


def summarize_check(name: str, report: dict) -> dict[str, dict[str, Any]]:
    """{figure: {"model": ..., "repeat_last": ..., "autoencoder": ...}} for one check's report; the
    autoencoder side (the true frames encoded and decoded, the best a generated frame can score) where
    the report has it."""
    sides = {"model": report["model"], "repeat_last": report["baseline"]}
    if report.get("autoencoder"):
        sides["autoencoder"] = report["autoencoder"]
    figures: dict[str, dict[str, Any]] = {}

    def put(figure: str, fn) -> None:
        figures[figure] = {side: fn(s) for side, s in sides.items()}

    def put_at(figure: str, metric: str, horizons) -> None:
        """``figure`` + ``_h{h}``: the metric's mean at each horizon; nothing for reports before the metric."""
        for h in horizons if metric in report["model"] else ():
            put(f"{figure}_h{h}", lambda s, h=h: _at(s[metric], h))

    band_17_64 = lambda s: round(float(np.nanmean(_curve(s["centroid_error_moved_px"])[16:64])), 3)  # noqa: E731
    if name == "next_frame":
        put_at("error_px", "centroid_error_px", (1,))
    elif name.startswith("pushbox_64"):
        put_at("moved_px", "centroid_error_moved_px", (1, 16, 32, 64))
        put("moved_px_h17-64", band_17_64)
        base = _curve(report["baseline"]["centroid_error_moved_px"])
        ahead = _curve(report["model"]["centroid_error_moved_px"]) < base
        figures["horizons_ahead_of_repeat_last"] = {"model": int(ahead.sum())}
        behind = np.flatnonzero(~ahead)
        figures["first_horizon_behind_repeat_last"] = {"model": int(behind[0]) + 1 if len(behind) else None}
        put_at("objects_kept", "permanence", (64,))
        put_at("moved_objects_kept", "moved_permanence", (16, 64))
        put_at("objects_placed", "placed", (64,))
    elif name.startswith("occlusion_"):
        h = report["config"]["horizon"]
        put_at("objects_kept", "permanence", sorted({16, h}))
        put_at("objects_placed", "placed", (h,))
        if "reappeared_placed" in report["model"]:  # over every horizon: few objects are back at any one
            put("reappeared_placed", lambda s: _mean_over_horizons(s["reappeared_placed"]))
    elif name == "playground_600":
        put_at("objects_kept", "permanence", (100, 300, 600))
        put_at("objects_placed", "placed", (100, 300, 600))
        put_at("histogram", "color_histogram_distance", (16, 600))
        put_at("moved_px", "centroid_error_moved_px", (16,))
        put("moved_px_h17-64", band_17_64)
    return figures


def summarize_text(report: dict) -> dict[str, dict[str, Any]]:
    s = report["summary"]["all"]
    ref = report.get("summary_reference", {})  # MuJoCo's frame of the parsed scene, scored the same way
    mujoco = lambda key: {"mujoco_frame": round(ref[key], 4)} if key in ref else {}
    figures = {"all_named_objects": {"model": s["all_named_objects_present"],
                                     "by_chance": s["other_prompt_all_present"]},
               "in_named_region": {"model": round(s["region_match"], 4), **mujoco("region_match")},
               "no_unasked_colour": {"model": s["exact_colors"], **mujoco("exact_colors")},
               **({"agents_as_named": {"model": s["agents_as_named"], **mujoco("agents_as_named")}}
                  if "agents_as_named" in s else {}),
               "prompts": {"model": s["prompts"]},
               **({"refused_prompts": {"model": len(report["refused"])}} if "refused" in report else {})}
    one = report.get("summary_best_of", {}).get("1")  # the same prompts, frame 0 drawn once
    if one is not None:
        figures.update({"all_named_objects_one_draw": {"model": one["all_named_objects_present"]},
                        "no_unasked_colour_one_draw": {"model": one["exact_colors"]}})
    return figures


def summarize_speed(report: dict) -> dict[str, dict[str, Any]]:
    moves = report.get("compared_at_sampling_steps", 4)  # the checkpoint's own moves
    rows = [r for r in report["learned_sim"] if r["sampling_steps"] == moves]
    plain = [r for r in rows if r.get("variant", "float32") == "float32"]
    batched = max(rows, key=lambda r: r["env_steps_per_s"])
    gt_steps_per_s = round(1000.0 / report["gt_env"]["ms_per_step"], 1)
    figures = {"steps_per_s_batch_1": {"model": next((r["env_steps_per_s"] for r in plain if r["batch"] == 1), None),
                                       "mujoco": gt_steps_per_s},
               "steps_per_s_batched": {"model": batched["env_steps_per_s"], "batch": batched["batch"],
                                       "variant": batched.get("variant", "float32")},
               "sampling_steps": {"model": moves},
               "cache_speedup_w32": {"model": report["cache_vs_recompute"]["speedup_vs_recompute_window"]}}
    for variant in ("int8", "compiled"):
        one = [r for r in rows if r.get("variant") == variant and r["batch"] == 1]
        if one:
            figures[f"steps_per_s_batch_1_{variant}"] = {"model": one[0]["env_steps_per_s"]}
    return figures


def summarize_dream_to_real(report: dict) -> dict[str, dict[str, Any]]:
    """Agents scored in MuJoCo: random, PPO in MuJoCo with the model's real-step budget (and far more), PPO
    in the dream (``make dream-to-real``)."""
    figures = {f"{kind}_{row}": {"model": report["summary"][row][key]} for row in report["summary"]
               for kind, key in (("return", "mean_return"), ("success", "success_rate"))}
    figures["dream_to_real"] = {"model": report["dream_to_real"]}
    if report.get("dream_to_real_vs_ref") is not None:  # against PPO given far more real steps
        figures["dream_to_real_vs_ref"] = {"model": report["dream_to_real_vs_ref"]}
    figures["real_steps_budget"] = {"model": report["budget_real_steps"]}
    figures["dream_reward"] = {"model": report.get("reward", "heads")}  # reports before the key ran on heads
    heads = report.get("heads")  # the model's reward and termination heads against MuJoCo's
    if heads:
        figures["heads_reward_mae"] = {"model": round(heads["reward_mae"], 4),
                                       "mean_reward": round(heads["reward_mae_mean_baseline"], 4)}
        for key in ("termination_precision", "termination_recall"):
            value = heads[key]
            figures[f"heads_{key}"] = {"model": None if value is None or value != value else round(value, 3)}
    return figures


def summarize_reach_policy(report: dict) -> dict[str, dict[str, Any]]:
    """The shipped dream-trained policy's MuJoCo return and success beside a random policy's."""
    return {figure: {"model": round(report["policy"][key], 4), "random": round(report["random"][key], 4)}
            for figure, key in (("return", "mean_return"), ("success", "success_rate"))} | {
        "episodes": {"model": report["policy"]["episodes"]}}


def run_reach_policy(out: Path) -> None:
    from worldsim.agents.evaluate import evaluate
    from worldsim.agents.policy_file import SHIPPED
    from worldsim.checkpoint import file_sha256

    scores = {side: evaluate(policy, REACH_POLICY["env_id"], episodes=REACH_POLICY["episodes"],
                             seed=REACH_POLICY["seed"], device="cpu")
              for side, policy in (("policy", REACH_POLICY["policy"]), ("random", "random"))}
    shipped = SHIPPED[REACH_POLICY["policy"]]
    write_json(out / "reach_policy.json", {**scores, "checkpoint": file_sha256(shipped)[:16],
                                            "config": REACH_POLICY})


def summarize_dream_loop(report: dict) -> dict[str, dict[str, Any]]:
    """DIAMOND's loop (``python -m worldsim.agents.dream_loop``): each round's policy in MuJoCo, beside the
    real steps it and the model had used."""
    figures = {}
    for row in report["rounds"]:
        r = row["round"]
        figures[f"real_steps_round{r}"] = {"model": row["real_steps"]}
        figures[f"return_round{r}"] = {"model": row["mean_return"]}
        figures[f"success_round{r}"] = {"model": row["success_rate"]}
    return figures


def run_checks(names: list[str], out: Path, checkpoint: str | None, samples: int, episodes: dict[str, int]) -> None:
    from worldsim.check import CheckConfig, check

    configs = _check_configs(episodes)
    for name in names:
        check(CheckConfig(checkpoint=checkpoint, samples=samples, out=str(out / name), json=str(out / f"{name}.json"),
                          videos=0 if name == "next_frame" else 2, **configs[name]))


def run_text(out: Path, checkpoint: str | None, name: str = "text") -> None:
    cmd = [sys.executable, str(Path(__file__).with_name("text_faithfulness.py")), "--json", str(out / f"{name}.json")]
    if name == "text_written":
        cmd += ["--prompts-file", str(WRITTEN_PROMPTS)]
    subprocess.run(cmd + (["--checkpoint", checkpoint] if checkpoint else []), check=True)


def run_speed(out: Path, checkpoint: str | None) -> None:
    from worldsim.bench import BenchConfig, bench

    bench(BenchConfig(checkpoint=checkpoint, json=str(out / "speed.json")))


def summarize(out: Path) -> dict[str, Any]:
    """The summary of every report present under ``out``."""
    summary: dict[str, Any] = {"figures": {}, "targets": {}, "order": []}
    for name in SECTIONS:
        path = out / f"{name}.json"
        if not path.exists():
            continue
        report = json.loads(path.read_text())
        if name in ("text", "text_written"):
            figures = summarize_text(report)
        elif name == "speed":
            figures = summarize_speed(report)
        elif name == "dream_to_real":
            figures = summarize_dream_to_real(report)
        elif name == "reach_policy":
            figures = summarize_reach_policy(report)
        elif name == "dream_loop":
            figures = summarize_dream_loop(report)
        else:
            figures = summarize_check(name, report)
            summary.setdefault("checks", {})[name] = {k: report["config"].get(k) for k in (
                "env", "policy", "episodes", "horizon", "context", "seed", "samples", "latent_hold", "latent_grid",
                "quantize")}
        summary["figures"][name] = figures
        summary["order"] += [f"{name}/{figure}" for figure in figures]  # the table's rows (JSON keys are sorted)
        summary["targets"].update({k: v for k, v in TARGETS.items() if k.startswith(f"{name}/")})
        checkpoint = report.get("checkpoint_hash", report.get("checkpoint"))
        summary.setdefault("checkpoints", {})[name] = checkpoint.get("hash") if isinstance(checkpoint, dict) \
            else checkpoint
        summary.setdefault("machine", report.get("machine"))
    return summary


def merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` with the sections of ``old`` it does not measure, each with its own checkpoint and settings."""
    kept = [name for name in old["figures"] if name not in new["figures"]]
    out = {key: dict(new.get(key, {})) for key in ("figures", "targets", "checks", "checkpoints")}
    for name in kept:
        out["figures"][name] = old["figures"][name]
        out["targets"].update({k: v for k, v in old["targets"].items() if k.startswith(f"{name}/")})
        for key in ("checks", "checkpoints"):
            if name in old.get(key, {}):
                out[key][name] = old[key][name]
    names = [n for n in SECTIONS if n in out["figures"]]
    order = {name: [k for k in (new["order"] if name in new["figures"] else old["order"])
                    if k.startswith(f"{name}/")] for name in names}
    return {**old, **new, **out, "order": [k for name in names for k in order[name]]}


def markdown(summary: dict[str, Any]) -> str:
    """The summary as one Markdown table: a row per figure, beside its baseline (:data:`BASELINES`)."""
    return _table({"model": summary})


def _table(summaries: dict[str, dict[str, Any]]) -> str:
    """A Markdown table of the summaries' figures, a column per summary, beside the first baseline,
    ceiling (the truth through the autoencoder) and target any of them gives."""
    names = list(summaries)
    order = list(dict.fromkeys(key for s in summaries.values() for key in s["order"]))
    lines = [f"| check | figure | {' | '.join(names)} | baseline | ceiling | target |",
             "|---|---|" + "---|" * (len(names) + 3)]
    for key in order:
        check, figure = key.split("/", 1)
        cells = [summaries[n]["figures"].get(check, {}).get(figure, {}) for n in names]
        baseline = next((c[k] for c in cells for k in BASELINES if k in c), None)
        ceiling = next((c["autoencoder"] for c in cells if "autoencoder" in c), None)
        target = next((s["targets"][key] for s in summaries.values() if key in s["targets"]), "")
        row = [_fmt(c.get("model")) for c in cells]
        lines.append(f"| {check} | {figure} | {' | '.join(row)} | {_fmt(baseline)} | {_fmt(ceiling)} | {target} |")
    return "\n".join(lines)


#: The long-horizon curves ``--compare`` draws: (check, metric) by horizon.
LONG_CURVES = (("pushbox_64", "centroid_error_moved_px"), ("pushbox_64", "permanence"),
               ("occlusion_48", "permanence"), ("playground_600", "permanence"), ("playground_600", "placed"),
               ("playground_600", "color_histogram_distance"))


def compare(runs: dict[str, Path], out: Path) -> Path:
    """The summaries of ``runs`` (name: a results directory) side by side in ``out/compare.md``, and the
    long-horizon curves of each over the same axes, beside the first run's repeat-last baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summaries = {name: _summary_of(path) for name, path in runs.items()}
    empty = [name for name, s in summaries.items() if not s["figures"]]
    if empty:
        raise SystemExit(f"no reports for {', '.join(empty)}: run benchmarks/results.py --out DIR on each first")
    names = list(summaries)
    out.mkdir(parents=True, exist_ok=True)
    hashes = {n: sorted(set(filter(None, s.get("checkpoints", {}).values()))) for n, s in summaries.items()}
    header = "\n".join(f"- {n}: `{runs[n]}`, checkpoint {', '.join(h) or 'unknown'}" for n, h in hashes.items())
    path = out / "compare.md"
    atomic_write_bytes(path, (header + "\n\n" + _table(summaries) + "\n").encode())
    for check, metric in LONG_CURVES:
        reports = {n: json.loads((runs[n] / f"{check}.json").read_text()) for n in names
                   if runs[n].is_dir() and (runs[n] / f"{check}.json").exists()}
        if not reports:
            continue
        fig, ax = plt.subplots(figsize=(5.5, 3.4), dpi=110)
        for n, report in reports.items():
            curve = _curve(report["model"][metric])
            ax.plot(np.arange(1, len(curve) + 1), curve, label=n)
        base = _curve(next(iter(reports.values()))["baseline"][metric])
        ax.plot(np.arange(1, len(base) + 1), base, color="tab:gray", linestyle="--", label="repeat last frame")
        ax.set_xlabel("horizon (steps)")
        ax.set_ylabel(metric.replace("_", " "))
        ax.set_title(check)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / f"{check}_{metric}.png")
        plt.close(fig)
    return path


def _summary_of(path: Path) -> dict[str, Any]:
    """The summary of a results directory, or a summary file written by ``--json``."""
    if path.is_dir():
        return summarize(path)
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"{path}: not a results directory or a summary file written by --json ({e})") from e
    if not isinstance(summary, dict) or not isinstance(summary.get("figures"), dict) or "order" not in summary:
        raise SystemExit(f"{path}: not a summary written by --json (it has no figures and order); "
                         "pass a results directory or benchmarks/results.json")
    summary.setdefault("targets", {})
    return summary


def _fmt(v: Any) -> str:
    if v is None or isinstance(v, str):
        return v or ""
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}" if isinstance(v, float) else str(v)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", default=None, help="checkpoint to measure (default: the shipped one)")
    p.add_argument("--samples", type=int, default=3, help="sampling seeds pooled per check")
    p.add_argument("--pushbox-episodes", type=int, default=16)
    p.add_argument("--occlusion-episodes", type=int, default=16)
    p.add_argument("--playground-episodes", type=int, default=8)
    p.add_argument("--only", nargs="*", default=None, choices=SECTIONS[:-1], help="measure only these; keep the rest")
    p.add_argument("--summarize-only", action="store_true", help="measure nothing; summarize the reports in --out")
    p.add_argument("--out", default="outputs/results", help="full reports, plots and videos")
    p.add_argument("--json", default=None, help="the summary (default: OUT/summary.json)")
    p.add_argument("--merge", action="store_true",
                   help="keep the sections of the existing --json summary that OUT holds no report for")
    p.add_argument("--compare", nargs="+", default=None, metavar="NAME=DIR",
                   help="measure nothing: set these results directories (or summary files) side by side "
                        "in OUT/compare.md")
    a = p.parse_args()
    out = Path(a.out)
    if a.compare:
        bad = [r for r in a.compare if "=" not in r or not r.split("=", 1)[0]]
        if bad:
            raise SystemExit(f"--compare takes NAME=DIR pairs, e.g. shipped=outputs/results; got {bad}")
        path = compare({n: Path(d) for n, d in (r.split("=", 1) for r in a.compare)}, out)
        print(path.read_text())
        return
    out.mkdir(parents=True, exist_ok=True)
    todo = [] if a.summarize_only else list(a.only or SECTIONS[:-1])
    episodes = {"pushbox": a.pushbox_episodes, "occlusion": a.occlusion_episodes, "playground": a.playground_episodes}
    run_checks([n for n in CHECKS if n in todo], out, a.checkpoint, a.samples, episodes)
    for name in ("text", "text_written"):
        if name in todo:
            run_text(out, a.checkpoint, name)
    if "speed" in todo:
        run_speed(out, a.checkpoint)
    if "reach_policy" in todo:
        run_reach_policy(out)
    summary = summarize(out)
    if not summary["figures"]:
        raise SystemExit(f"no reports under {out}: run without --summarize-only first")
    path = Path(a.json or out / "summary.json")
    if a.merge and path.exists():
        summary = merged(json.loads(path.read_text()), summary)
    write_json(path, summary)
    print(markdown(summary))


if __name__ == "__main__":
    main()
