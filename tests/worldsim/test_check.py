"""`worldsim check`, `rollout`, `bench` end to end at tiny scale, and the evaluation arithmetic."""

import json

import numpy as np
import pytest
import torch

from worldsim.evaluate import Rollouts, score_rollouts, side_by_side, summarise


def _square(col: int, row: int) -> np.ndarray:
    f = np.full((16, 16, 3), 60, np.uint8)
    f[row:row + 3, col:col + 3] = (220, 40, 40)
    return f


def test_scores_have_known_answers():
    gt = np.stack([_square(2 + h, 4) for h in range(4)])[None]  # a red square moving right, 1 px a step
    shifted = np.stack([_square(2 + h + 3, 8) for h in range(4)])[None]  # off by (3, 4): 5 px
    zeros = np.zeros((1, 4), np.float32)
    r = Rollouts(gt, shifted, gt.copy(), np.ones((1, 4), bool), zeros, zeros, zeros.astype(bool), zeros.astype(bool))
    rep = score_rollouts(r, {"red": (220, 40, 40)}, background=((60, 60, 60),))
    assert np.allclose(rep["model"]["centroid_error_px"]["mean"], 5.0)
    assert np.allclose(rep["baseline"]["centroid_error_px"]["mean"], 0.0)  # "baseline" here is the GT itself
    assert rep["baseline"]["psnr"]["mean"][0] == 100.0  # identical frames: capped infinite PSNR
    assert rep["model"]["permanence"]["mean"] == [1.0] * 4
    assert summarise(rep, 4)["model"]["centroid_error_px"] == {"h1": 5.0}
    long = {"model": {"err": {"mean": [1.0] + [2.0] * 15 + [4.0] * 47 + [None]}}}
    assert summarise(long, 64)["model"]["err"] == {"h1": 1.0, "h16": 2.0, "h64": None, "h2-16": 2.0, "h17-64": 4.0}
    assert side_by_side(gt[0], shifted[0], scale=1).shape == (4, 16, 16 * 3 + 4, 3)


def test_check_end_to_end(tiny_checkpoint, tmp_path):
    from worldsim.check import CheckConfig, check

    report = check(CheckConfig(checkpoint=tiny_checkpoint, episodes=2, horizon=3, out=str(tmp_path), videos=1,
                               sampling_steps=1))
    saved = json.loads((tmp_path / "report.json").read_text())
    assert {"model", "baseline", "autoencoder", "config", "summary", "machine"} <= set(saved)
    assert saved["autoencoder"]["psnr"]["mean"][0] > 0  # the reconstruction ceiling, scored like the model
    assert len(saved["model"]["psnr"]["mean"]) == 3
    assert (tmp_path / "centroid_error_px.png").exists()
    assert (tmp_path / "gt_generated_diff.gif").exists()
    provenance = json.loads((tmp_path / "gt_generated_diff.provenance.json").read_text())
    assert provenance["synthetic"] is True and provenance["checkpoint"]
    assert report["summary"]["baseline"]["psnr"]["h1"] is not None

    check(CheckConfig(checkpoint=tiny_checkpoint, episodes=1, horizon=2, out=str(tmp_path / "quiet"), videos=0,
                      sampling_steps=1))
    assert (tmp_path / "quiet" / "report.json").exists()
    assert not list((tmp_path / "quiet").glob("gt_generated_diff*"))


def test_check_sample_seeds_change_the_samples_not_the_episodes(tiny_checkpoint, tmp_path):
    from worldsim.check import CheckConfig, check

    def run(**kw) -> dict:
        return check(CheckConfig(checkpoint=tiny_checkpoint, episodes=1, horizon=2, out=str(tmp_path), videos=0,
                                 sampling_steps=1, **kw))

    default, same, other = run(), run(sample_seed=1_000_000), run(sample_seed=7)
    assert default["baseline"] == other["baseline"]  # the same ground-truth episodes
    assert default["model"]["psnr"] == same["model"]["psnr"]
    assert default["model"]["psnr"] != other["model"]["psnr"]
    # Two samples pool the rollouts of seeds 7 and 8: each horizon's mean is the mean of the two.
    eight, pooled = run(sample_seed=8), run(sample_seed=7, samples=2)
    expected = [(a + b) / 2 for a, b in zip(other["model"]["psnr"]["mean"], eight["model"]["psnr"]["mean"])]
    assert np.allclose(pooled["model"]["psnr"]["mean"], expected, atol=1e-3)
    assert pooled["baseline"]["psnr"]["mean"] == other["baseline"]["psnr"]["mean"]


def test_check_commits_frames_at_the_context_noise_it_is_given(tiny_checkpoint, tmp_path, monkeypatch):
    import worldsim.check as check_module
    from worldsim.check import CheckConfig, check

    seen = []
    real = check_module.Simulator

    def spy(model, batch_size, cfg):
        seen.append(cfg.context_noise)
        return real(model, batch_size, cfg)

    monkeypatch.setattr(check_module, "Simulator", spy)
    check(CheckConfig(checkpoint=tiny_checkpoint, episodes=1, horizon=2, out=str(tmp_path), videos=0,
                      sampling_steps=1, context_noise=0.1))
    assert seen and set(seen) == {0.1}
    with pytest.raises(ValueError, match="context_noise"):
        check(CheckConfig(checkpoint=tiny_checkpoint, episodes=1, horizon=2, out=str(tmp_path), videos=0,
                          context_noise=1.5))


def test_rollout_from_a_prompt(tiny_checkpoint, tmp_path):
    from worldsim.scenario import RolloutConfig, scenario_rollout

    report = scenario_rollout(RolloutConfig(prompt="a red box on the left and a blue ball at the top right",
                                            steps=3, actions="random", checkpoint=tiny_checkpoint,
                                            out=str(tmp_path), sampling_steps=1, frame0_seeds=3))
    assert report["scene"] == "WorldSim/Playground-v0"
    assert len(report["drift"]["permanence"]) == 4
    f0 = report["frame0"]
    assert 0.0 <= f0["objects_present"] <= 1.0
    assert f0["all_named_objects_present"] == (f0["objects_present"] == 1.0)  # both named objects are in view
    assert not {"red", "blue"} & set(f0["unnamed_colors"])
    assert set(f0["missing"]) <= {"red box", "blue ball"}
    assert len(f0["missing"]) == round(2 * (1 - f0["objects_present"]))
    rate = report["frame0_over_seeds"]
    assert rate["seeds"] == 3 and rate["all_named_objects_present"] in (0.0, 1 / 3, 2 / 3, 1.0)
    assert (tmp_path / "prompt_rollout.provenance.json").exists()
    assert report["start"] == "grounded"  # frame 0 is MuJoCo's, through the autoencoder


def test_grounded_start_is_the_mujoco_frame_through_the_autoencoder(tiny_checkpoint, tmp_path, monkeypatch):
    import worldsim.scenario as cli
    from worldsim.worldmodel import WorldModel

    videos = []
    monkeypatch.setattr(cli, "write_video", lambda path, frames, meta: videos.append(frames))
    cfg = dict(prompt="a red box on the left", steps=1, actions="random", checkpoint=tiny_checkpoint,
               sampling_steps=1, frame0_seeds=0, out=str(tmp_path))
    grounded = cli.scenario_rollout(cli.RolloutConfig(**cfg))
    generated = cli.scenario_rollout(cli.RolloutConfig(**cfg, start="generated"))
    assert (grounded["start"], generated["start"]) == ("grounded", "generated")
    first = [v[0, ::3, ::3] for v in videos]  # MuJoCo | gap | generated | gap | diff, unscaled
    w = (first[0].shape[1] - 4) // 3
    truth = first[0][:, :w]
    np.testing.assert_array_equal(first[1][:, :w], truth)  # the same MuJoCo scene both times
    expected = WorldModel.load(tiny_checkpoint).autoencoder.round_trip(truth[None])[0]
    np.testing.assert_array_equal(first[0][:, w + 2:2 * w + 2], expected)
    assert not np.array_equal(first[1][:, w + 2:2 * w + 2], expected)


def test_rollout_rejects_unknown_words(tiny_checkpoint, tmp_path):
    import pytest

    from worldsim.scenario import RolloutConfig, scenario_rollout

    with pytest.raises(SystemExit, match="pyramid"):
        scenario_rollout(RolloutConfig(prompt="a red pyramid", steps=2, checkpoint=tiny_checkpoint, out=str(tmp_path)))


def test_bench_quick(tiny_checkpoint, tmp_path):
    from worldsim.bench import BenchConfig, bench

    r = bench(BenchConfig(checkpoint=tiny_checkpoint, quick=True, json=str(tmp_path / "b.json"),
                          sampling_steps=(1,)))
    assert r["learned_sim"][0]["env_steps_per_s"] > 0 and r["gt_env"]["steps_per_s"] > 0
    assert r["memory"]["flat_after_window"]
    assert json.loads((tmp_path / "b.json").read_text())["machine"]["cpus"]
    cost = r["cost_per_simulated_minute"]
    one = r["learned_sim"][0]
    assert cost["learned_batch_1"]["wall_s"] == round(600 / one["env_steps_per_s"], 3)
    assert cost["learned_batch_1"]["cpu_s"] > 0 and cost["mujoco"]["cpu_s"] > 0
    assert r["compared_at_sampling_steps"] == 1


def test_bench_variants_are_simulator_settings_the_config_accepts():
    """Each variant `worldsim bench` can time is a set of SimulatorConfig settings that validate, and
    the names the command line offers are exactly those."""
    import typing

    from worldsim.bench import VARIANTS, BenchConfig
    from worldsim.simulator import SimulatorConfig

    for settings in VARIANTS.values():
        SimulatorConfig(**settings)
    offered = typing.get_args(typing.get_args(typing.get_type_hints(BenchConfig)["variants"])[0])
    assert set(offered) == set(VARIANTS)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_bench_training_throughput_trains_in_the_precision_it_names(precision, tiny_checkpoint, monkeypatch):
    """`worldsim bench`'s training row runs the forward pass in the precision it reports (bfloat16
    under autocast, as `--precision bfloat16` trains) and leaves the weights float32."""
    from worldsim import bench
    from worldsim.worldmodel import WorldModel

    model = WorldModel.load(tiny_checkpoint)
    seen = []
    forward = type(model.dit).forward

    def spy(self, *args, **kwargs):
        out = forward(self, *args, **kwargs)
        seen.append(out.velocity.dtype)
        return out

    monkeypatch.setattr(type(model.dit), "forward", spy)
    before = {k: v.clone() for k, v in model.dit.state_dict().items()}
    row = bench.training_throughput(model, batch_size=2, steps=1, precision=precision)
    assert all(torch.equal(before[k], v) for k, v in model.dit.state_dict().items())  # trained a copy
    assert row["precision"] == precision and row["step_s"] > 0 and row["frames_per_s"] > 0
    assert set(seen) == {torch.bfloat16 if precision == "bfloat16" else torch.float32}
    assert all(p.dtype == torch.float32 for p in model.dit.parameters()) and not model.dit.training


def test_bench_times_a_pooled_memory_beside_a_wider_window_without_changing_the_model(tiny_checkpoint):
    from worldsim.bench import longer_context
    from worldsim.worldmodel import WorldModel

    model = WorldModel.load(tiny_checkpoint)
    rows = {r["context"]: r for r in longer_context(model, memory=6, batch_sizes=(2,), sampling_steps=1, steps=1)}
    assert set(rows) == {"as_is", "memory_6", "window_9"} and rows["as_is"]["vs_as_is"] == 1.0
    # the memory holds its 6 steps pooled to a quarter of their tokens; the wider window holds them whole
    held = {name: r["kv_cache_bytes_per_env"] for name, r in rows.items()}
    assert held["as_is"] < held["memory_6"] < held["window_9"]
    assert all(r["step_ms"] > 0 for r in rows.values())
    assert (model.dit.cfg.window, model.dit.cfg.memory) == (3, 0)  # timed on copies


def test_bench_without_batch_1_compares_its_smallest_batch_with_mujoco(tiny_checkpoint):
    from worldsim.bench import BenchConfig, bench

    r = bench(BenchConfig(checkpoint=tiny_checkpoint, quick=True, batch_sizes=(2, 3), sampling_steps=(1,)))
    assert r["learned_vs_gt"]["batch"] == 2 and r["learned_vs_gt"]["ratio"] > 0
    assert r["cost_per_simulated_minute"]["learned_batch_1"]["batch"] == 2


def test_bench_compares_a_distilled_checkpoint_at_its_own_moves(tiny_checkpoint, tmp_path):
    from worldsim.bench import BenchConfig, bench
    from worldsim.worldmodel import WorldModel

    model = WorldModel.load(tiny_checkpoint)
    model.save(tmp_path / "m", meta={**model.meta, "rollout": {"sampling_steps": 1}})  # as --distill-steps 1 records
    r = bench(BenchConfig(checkpoint=str(tmp_path / "m"), quick=True, sampling_steps=(1, 2)))
    assert r["compared_at_sampling_steps"] == 1 and r["cost_per_simulated_minute"]["sampling_steps"] == 1


def test_head_scores_line_the_heads_up_with_each_transition(tiny_checkpoint):
    import gymnasium as gym
    import torch

    from worldsim import envs  # noqa: F401
    from worldsim.collect import rollout
    from worldsim.evaluate import head_scores
    from worldsim.simulator import Simulator
    from worldsim.worldmodel import WorldModel

    env = gym.make("WorldSim/Reach-v0")
    episodes = [rollout(env, steps=40, seed=s, policy="scripted") for s in range(4)]
    env.close()
    model = WorldModel.load(tiny_checkpoint)
    with torch.no_grad():  # heads that always say "reward 0.25, terminated"
        model.dit.heads[1].weight.zero_()
        model.dit.heads[1].bias.copy_(torch.tensor([0.25, 10.0]))
    scores = head_scores(Simulator(model, 1, {"sampler": {"steps": 1}}), episodes)
    rewards = np.concatenate([ep.rewards for ep in episodes])
    done = np.concatenate([ep.terminated for ep in episodes])
    assert scores["transitions"] == sum(len(ep) for ep in episodes) == scores["predicted_terminations"]
    assert np.isclose(scores["reward_mae"], np.abs(rewards - 0.25).mean(), atol=1e-5)
    assert scores["terminations"] == done.sum() >= 3 and scores["termination_recall"] == 1.0
    assert np.isclose(scores["termination_precision"], done.mean())
    assert scores["done_prob_terminal"] > 0.99
