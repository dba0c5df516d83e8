"""benchmarks/results.py: the one summary is computed from the reports, never typed in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "results.py"


def _stats(values: list[float | None]) -> dict:
    return {"mean": values, "std": [0.0] * len(values)}


def _check_report(env: str, horizon: int, moved: list[float], moved_base: list[float], kept: float) -> dict:
    side = lambda curve, k: {"centroid_error_moved_px": _stats(curve), "centroid_error_px": _stats(curve),
                             "permanence": _stats([k] * horizon), "moved_permanence": _stats([k - 0.1] * horizon),
                             "placed": _stats([k - 0.2] * horizon), "color_histogram_distance": _stats([0.1] * horizon),
                             # no object is back in view before horizon 10
                             "reappeared_placed": _stats([None] * 10 + [k - 0.3, k - 0.5] * ((horizon - 10) // 2))}
    return {"model": side(moved, kept), "baseline": side(moved_base, 1.0), "autoencoder": side([0.5] * horizon, 1.0),
            "checkpoint": {"hash": "c0ffee"},
            "config": {"env": env, "horizon": horizon, "episodes": 2, "samples": 3, "seed": 3_000_000},
            "machine": {"cpus": 2}}


def test_summary_counts_horizons_ahead_and_reads_every_report(tmp_path):
    moved = [1.0] * 20 + [30.0] * 44  # ahead of the baseline (10 px) for 20 horizons, then behind
    (tmp_path / "pushbox_64.json").write_text(json.dumps(
        _check_report("WorldSim/PushBox-v0", 64, moved, [10.0] * 64, 0.75)))
    (tmp_path / "occlusion_48.json").write_text(json.dumps(
        _check_report("WorldSim/Occlusion-v0", 48, [2.0] * 48, [3.0] * 48, 0.9)))
    text = {"all_named_objects_present": 0.8, "other_prompt_all_present": 0.17, "region_match": 0.74,
            "exact_colors": 0.55, "prompts": 200}
    (tmp_path / "text.json").write_text(json.dumps({"checkpoint": "c0ffee", "summary": {"all": text},
        "summary_best_of": {"1": {**text, "all_named_objects_present": 0.6}, "8": text},
        "summary_reference": {**text, "exact_colors": 1.0}}))
    rows = [{"variant": v, "batch": b, "sampling_steps": 2, "env_steps_per_s": r}
            for v, b, r in (("float32", 1, 50.0), ("float32", 64, 120.0),
                            ("compiled", 1, 70.0), ("compiled", 64, 150.0))]
    (tmp_path / "speed.json").write_text(json.dumps({"checkpoint": "c0ffee", "compared_at_sampling_steps": 2,
        "learned_sim": rows + [{**rows[0], "sampling_steps": 4, "env_steps_per_s": 30.0}],
        "gt_env": {"ms_per_step": 0.5}, "cache_vs_recompute": {"speedup_vs_recompute_window": 12.0}}))
    row = lambda r, s: {"mean_return": r, "success_rate": s}  # noqa: E731
    (tmp_path / "dream_to_real.json").write_text(json.dumps({
        "summary": {"random": row(-0.1, 0.0), "mujoco_B": row(2.0, 0.1), "dream": row(1.5, 0.2)},
        "dream_to_real": 0.76, "budget_real_steps": 18000, "checkpoint_hash": "c0ffee", "reward": "frames",
        "heads": {"reward_mae": 0.31234, "reward_mae_mean_baseline": 0.5, "termination_precision": 0.6,
                  "termination_recall": None}}))
    rounds = [{"round": r, "real_steps": 18000 + 3000 * r, "mean_return": 1.0 + r, "success_rate": 0.1 * r}
              for r in range(2)]
    (tmp_path / "dream_loop.json").write_text(json.dumps({"checkpoint_hash": "c0ffee", "rounds": rounds}))
    scored = lambda r, s: {"mean_return": r, "success_rate": s, "episodes": 100}  # noqa: E731
    (tmp_path / "reach_policy.json").write_text(json.dumps({"policy": scored(13.4, 0.61), "random": scored(0.19, 0.03),
                                                            "checkpoint": "beef"}))
    out = tmp_path / "summary.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--summarize-only", "--out", str(tmp_path), "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text())["figures"]
    push = figures["pushbox_64"]
    assert push["horizons_ahead_of_repeat_last"]["model"] == 20
    assert push["first_horizon_behind_repeat_last"]["model"] == 21
    assert push["moved_px_h16"] == {"model": 1.0, "repeat_last": 10.0, "autoencoder": 0.5}
    assert push["moved_px_h17-64"]["model"] == round((4 * 1.0 + 44 * 30.0) / 48, 3)
    assert push["moved_objects_kept_h64"] == {"model": 0.65, "repeat_last": 0.9, "autoencoder": 0.9}
    assert push["objects_placed_h64"] == {"model": 0.55, "repeat_last": 0.8, "autoencoder": 0.8}  # kept in place
    speed = figures["speed"]  # at the checkpoint's own 2 moves; the compiled passes beside the plain ones
    assert speed["steps_per_s_batch_1"] == {"model": 50.0, "mujoco": 2000.0}
    assert speed["steps_per_s_batch_1_compiled"] == {"model": 70.0}
    assert speed["steps_per_s_batched"] == {"model": 150.0, "batch": 64, "variant": "compiled"}
    assert figures["occlusion_48"]["objects_kept_h48"] == {"model": 0.9, "repeat_last": 1.0, "autoencoder": 1.0}
    # back from under the slab, over the horizons where any object is
    assert figures["occlusion_48"]["reappeared_placed"] == {"model": 0.5, "repeat_last": 0.6, "autoencoder": 0.6}
    assert figures["text"]["all_named_objects"] == {"model": 0.8, "by_chance": 0.17}
    assert figures["text"]["all_named_objects_one_draw"] == {"model": 0.6}  # the best of 8 beside one draw
    assert figures["text"]["no_unasked_colour"] == {"model": 0.55, "mujoco_frame": 1.0}  # MuJoCo's frame scored
    dream = figures["dream_to_real"]  # the policies' scores, what paid the dream, and the model's heads
    assert dream["success_dream"] == {"model": 0.2} and dream["return_mujoco_B"] == {"model": 2.0}
    assert dream["dream_reward"] == {"model": "frames"}
    assert dream["heads_reward_mae"] == {"model": 0.3123, "mean_reward": 0.5}
    assert dream["heads_termination_precision"] == {"model": 0.6}
    assert dream["heads_termination_recall"] == {"model": None}  # no termination predicted or none to find
    loop = figures["dream_loop"]  # round by round, beside the real steps used so far
    assert loop["real_steps_round1"] == {"model": 21000} and loop["return_round1"] == {"model": 2.0}
    assert loop["success_round0"] == {"model": 0.0}
    assert figures["reach_policy"]["success"] == {"model": 0.61, "random": 0.03}  # the shipped policy beside random
    assert "| reach_policy | success | 0.61 | 0.03 |  | >= 0.7 |" in done.stdout
    assert "| text | no_unasked_colour | 0.55 | 1 |  | >= 0.90 |" in done.stdout
    assert "| dream_to_real | heads_reward_mae | 0.312 | 0.5 |  |  |" in done.stdout
    assert "| dream_to_real | dream_reward | frames |  |  |  |" in done.stdout  # a word, not a number
    assert "| pushbox_64 | moved_px_h64 | 30 | 10 | 0.5 | <= 8 |" in done.stdout  # beside the truth round trip


def test_summary_of_nothing_says_what_to_run(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--summarize-only", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "run without --summarize-only" in done.stderr


def _compare(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--compare", *args], capture_output=True, text=True,
                          timeout=120)


def test_compare_sets_checkpoints_side_by_side_and_draws_their_curves(tmp_path):
    runs = {}
    for name, moved, kept in (("old", 20.0, 0.8), ("new", 5.0, 0.95)):
        d = tmp_path / name
        d.mkdir()
        report = _check_report("WorldSim/PushBox-v0", 64, [moved] * 64, [10.0] * 64, kept)
        report["checkpoint"] = {"hash": f"{name}-hash"}
        (d / "pushbox_64.json").write_text(json.dumps(report))
        runs[name] = d
    out = tmp_path / "cmp"
    done = _compare(f"old={runs['old']}", f"new={runs['new']}", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    table = (out / "compare.md").read_text()
    assert "| check | figure | old | new | baseline | ceiling | target |" in table
    assert "| pushbox_64 | moved_px_h64 | 20 | 5 | 10 | 0.5 | <= 8 |" in table
    assert "| pushbox_64 | horizons_ahead_of_repeat_last | 0 | 64 |  |  | 64 of 64 |" in table
    assert "old-hash" in table and "new-hash" in table
    assert (out / "pushbox_64_centroid_error_moved_px.png").stat().st_size > 0
    assert not (out / "playground_600_permanence.png").exists()  # no run measured it
    bad = _compare(str(runs["old"]), "--out", str(out))
    assert bad.returncode != 0 and "NAME=DIR" in bad.stderr


def test_compare_reads_a_kept_summary_file_beside_a_results_directory(tmp_path):
    new = tmp_path / "new"
    new.mkdir()
    (new / "pushbox_64.json").write_text(json.dumps(
        _check_report("WorldSim/PushBox-v0", 64, [5.0] * 64, [10.0] * 64, 0.95)))
    kept = tmp_path / "results.json"
    kept.write_text(json.dumps({
        "figures": {"pushbox_64": {"moved_px_h64": {"model": 27.5, "repeat_last": 24.4}},
                    "occlusion_16": {"objects_kept_h16": {"model": 0.965, "repeat_last": 1.0}}},
        "checkpoints": {"pushbox_64": "old-hash"},
        "order": ["pushbox_64/moved_px_h64", "occlusion_16/objects_kept_h16"]}))
    out = tmp_path / "cmp"
    done = _compare(f"shipped={kept}", f"new={new}", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    table = (out / "compare.md").read_text()
    assert "| pushbox_64 | moved_px_h64 | 27.5 | 5 | 24.4 |" in table
    assert "| occlusion_16 | objects_kept_h16 | 0.965 |  | 1 |" in table  # only the kept summary measured it
    assert "old-hash" in table
    assert (out / "pushbox_64_centroid_error_moved_px.png").stat().st_size > 0  # the directory's curve alone
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"episodes": 3}))
    bad = _compare(f"x={foreign}", "--out", str(out))
    assert bad.returncode != 0 and "not a summary" in bad.stderr


def test_merge_keeps_the_sections_measured_before_and_replaces_the_ones_measured_again(tmp_path):
    scored = lambda r, s: {"mean_return": r, "success_rate": s, "episodes": 100}  # noqa: E731
    (tmp_path / "reach_policy.json").write_text(json.dumps({"policy": scored(13.4, 0.61), "random": scored(0.2, 0.03),
                                                            "checkpoint": "beef"}))
    summary = tmp_path / "results.json"
    summary.write_text(json.dumps({
        "figures": {"speed": {"cache_speedup_w32": {"model": 15.0}}, "reach_policy": {"success": {"model": 0.1}}},
        "targets": {"speed/cache_speedup_w32": ">= 10"}, "checkpoints": {"speed": "c0ffee", "reach_policy": "old"},
        "order": ["speed/cache_speedup_w32", "reach_policy/success"]}))
    done = subprocess.run([sys.executable, str(SCRIPT), "--summarize-only", "--merge", "--out", str(tmp_path),
                           "--json", str(summary)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    merged = json.loads(summary.read_text())
    assert merged["figures"]["speed"] == {"cache_speedup_w32": {"model": 15.0}}  # kept, with its own checkpoint
    assert merged["checkpoints"] == {"speed": "c0ffee", "reach_policy": "beef"}
    assert merged["figures"]["reach_policy"]["success"] == {"model": 0.61, "random": 0.03}  # measured again
    assert merged["order"][0] == "speed/cache_speedup_w32" and "reach_policy/return" in merged["order"]
    assert "| speed | cache_speedup_w32 | 15 |" in done.stdout
