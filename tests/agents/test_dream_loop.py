"""DIAMOND's loop at a tiny budget: every stage runs, hands its result to the next, and resumes."""

import json

import pytest

from worldsim.agents import dream_loop
from worldsim.store import EpisodeStore
from worldsim.worldmodel import WorldModel


@pytest.fixture(scope="module")
def start(checkpoint, tmp_path_factory):
    """The tiny world model with frame heads, and a small Reach store."""
    from worldsim.collect import CollectConfig, collect
    from worldsim.frame_heads import FrameHeads, FrameHeadsConfig

    root = tmp_path_factory.mktemp("loop_start")
    model = WorldModel.load(checkpoint)
    model.frame_heads = FrameHeads(FrameHeadsConfig(image_size=64, action_dim=4, channels=(4, 4), hidden=8,
                                                    potential=True, separable=True))
    model.save(root / "model")
    collect(CollectConfig(env_id="WorldSim/Reach-v0", episodes=8, steps=30, policy="scripted",
                          out=str(root / "scripted"), progress=False))
    return str(root / "model"), str(root / "scripted")


def _args(start, out, **change) -> dream_loop.Args:
    model, store = start
    tiny = dict(rounds=2, dream_steps=32, num_envs=2, n_steps=16, batch_size=16, n_epochs=1, sampling_steps=1,
                horizon=4, burn_in=2, collect_episodes=3, collect_steps=5, wm_steps=2, heads_steps=2, eval_episodes=1,
                max_episode_steps=4)
    return dream_loop.Args(**{"checkpoint": model, "dataset": (store,), "out": str(out), **tiny, **change})


@pytest.mark.slow
def test_the_loop_collects_with_its_policy_and_hands_each_round_a_new_model(start, tmp_path):
    summary = dream_loop.run_loop(_args(start, tmp_path))
    first, second = summary["rounds"]
    collected = EpisodeStore(tmp_path / "round0" / "data")
    assert len(collected) == 3 and collected.manifest["config"]["policy"] == first["policy"]
    assert second["real_steps"] == first["real_steps"] + collected.manifest["num_steps"]
    assert second["checkpoint"] == str(tmp_path / "round0" / "heads" / "model")
    heads = WorldModel.load(second["checkpoint"])
    assert heads.frame_heads.cfg.separable and heads.meta["frame_heads_step"] == 2
    assert heads.meta["frame_heads_added_to"] == WorldModel.load(tmp_path / "round0" / "wm" / "model").checkpoint_hash
    args = json.loads((tmp_path / "round1" / "ppo" / "summary.json").read_text())["args"]
    assert args["init_policy"] == first["policy"] and str(tmp_path / "round0" / "data") in args["dataset"]
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert any((tmp_path / "tb").rglob("events.out.tfevents*"))

    stamp = (tmp_path / "round1" / "ppo" / "policy.safetensors").stat().st_mtime_ns
    assert dream_loop.run_loop(_args(start, tmp_path)) == summary  # a rerun finds every stage done
    assert (tmp_path / "round1" / "ppo" / "policy.safetensors").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_a_loop_paid_by_the_frames_needs_no_heads_and_hands_on_the_fine_tuned_model(start, checkpoint, tmp_path):
    summary = dream_loop.run_loop(_args(start, tmp_path, checkpoint=checkpoint, reward="frames"))
    first, second = summary["rounds"]
    assert first["checkpoint"] == str(dream_loop.resolve_checkpoint(checkpoint))
    assert second["checkpoint"] == str(tmp_path / "round0" / "wm" / "model")
    assert not (tmp_path / "round0" / "heads").exists()
    args = json.loads((tmp_path / "round1" / "ppo" / "summary.json").read_text())["args"]
    assert args["reward"] == "frames" and args["checkpoint"] == second["checkpoint"]


def test_bad_loop_arguments_are_refused_clearly(start, checkpoint, tmp_path):
    with pytest.raises(ValueError, match="not an episode store"):
        _args(start, tmp_path, dataset=(str(tmp_path),))
    with pytest.raises(ValueError, match="unknown task"):
        _args(start, tmp_path, task="fly")
    with pytest.raises(ValueError, match="has no frame heads"):
        dream_loop.run_loop(_args(start, tmp_path, checkpoint=checkpoint))
