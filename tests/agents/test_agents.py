"""Smoke tests for the agent scripts at tiny budgets, on a small random world model."""

import json
import math
import sys
import warnings

import pytest
from stable_baselines3.common.vec_env import DummyVecEnv, VecTransposeImage

from worldsim.agents import evaluate as evaluate_script
from worldsim.agents import ppo
from worldsim.agents.evaluate import evaluate
from worldsim.agents.policy_file import policy_provenance
from worldsim.envs.sb3 import SB3VecEnv

TINY = ["--num-envs", "2", "--total-timesteps", "32", "--n-steps", "16", "--batch-size", "32", "--n-epochs", "1",
        "--eval-every", "16", "--eval-episodes", "1", "--max-episode-steps", "8", "--sampling-steps", "1",
        "--device", "cpu", "--no-progress-bar"]


@pytest.fixture(scope="module")
def trained(checkpoint, tmp_path_factory):
    """Run ``python -m worldsim.agents.ppo`` in-process at a tiny budget; returns (out dir, warnings raised)."""
    out = tmp_path_factory.mktemp("ppo")
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings(record=True) as caught:
        mp.setattr(sys, "argv", ["ppo", "--checkpoint", checkpoint, "--out", str(out), *TINY])
        warnings.simplefilter("always")
        ppo.main()
    return out, [str(w.message) for w in caught]


def _finite(*values) -> bool:
    return all(isinstance(v, float) and math.isfinite(v) for v in values)


@pytest.mark.slow
def test_ppo_writes_policy_and_summary(trained):
    out, messages = trained
    assert (out / "policy.zip").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["policy"] == str(out / "policy.safetensors")
    made = policy_provenance(out / "policy.safetensors")
    assert made["args"]["env_id"] == summary["env_id"] and made["num_timesteps"] == summary["num_timesteps"]
    assert made["checkpoint_hash"] is not None and len(made["checkpoint_hash"]) == 16
    assert summary["num_timesteps"] >= 32 and summary["env_id"] == "WorldSim/PushBox-Learned-v0"
    assert _finite(summary["mean_return"], summary["std_return"]) and summary["std_return"] >= 0
    assert 0.0 <= summary["success_rate"] <= 1.0
    assert len(summary["periodic_eval"]) == 2  # at 16 and 32 steps
    assert all(_finite(e["mean_return"]) for e in summary["periodic_eval"])
    assert any((out / "tb").rglob("events.out.tfevents*"))
    assert not [m for m in messages if "not of the same type" in m]


@pytest.mark.slow
def test_train_and_eval_envs_match_for_cnn_policy(checkpoint, tmp_path):
    args = ppo.Args(checkpoint=str(checkpoint), num_envs=2, sampling_steps=1, out=str(tmp_path), device="cpu")
    train_env, eval_env = ppo.make_train_env(args), ppo.make_eval_env(args)
    try:
        assert type(train_env) is type(eval_env) is VecTransposeImage
        assert isinstance(train_env.venv.venv, SB3VecEnv) and isinstance(eval_env.venv, DummyVecEnv)
        assert train_env.num_envs == 2 and train_env.venv.venv.venv.sim.batch_size == 2  # one batched simulator
        assert train_env.observation_space == eval_env.observation_space
        assert train_env.observation_space.shape == (3, 64, 64)
    finally:
        train_env.close()
        eval_env.close()


@pytest.mark.slow
def test_saved_policy_evaluates_deterministically_with_video(trained, tmp_path):
    out, _ = trained
    first = evaluate(out / "policy.zip", episodes=1, seed=5, max_episode_steps=8, video=tmp_path / "ep")
    again = evaluate(out / "policy.zip", episodes=1, seed=5, max_episode_steps=8)
    unpickled_nothing = evaluate(out / "policy.safetensors", episodes=1, seed=5, max_episode_steps=8)
    assert first["returns"] == again["returns"] == unpickled_nothing["returns"] and first["lengths"] == [8]
    assert (tmp_path / "ep.gif").is_file() and (tmp_path / "ep.provenance.json").is_file()
    provenance = json.loads((tmp_path / "ep.provenance.json").read_text())
    assert provenance["seed"] == 5 and len(provenance["policy_sha256"]) == 64


def test_ground_truth_env_id_trains_in_mujoco(tmp_path):
    args = ppo.Args(env_id="WorldSim/PushBox-v0", num_envs=2, out=str(tmp_path))
    env = ppo.make_train_env(args)
    try:
        assert type(env) is VecTransposeImage and isinstance(env.venv.venv, DummyVecEnv)
        assert env.num_envs == 2 and env.reset().shape == (2, 3, 64, 64)
    finally:
        env.close()


def test_random_baseline_is_seeded_and_finite():
    result = evaluate("random", "WorldSim/PushBox-v0", episodes=2, seed=0, max_episode_steps=8)
    assert _finite(result["mean_return"], result["std_return"]) and result["std_return"] >= 0
    assert 0.0 <= result["success_rate"] <= 1.0 and result["lengths"] == [8, 8]
    assert evaluate("random", episodes=2, seed=0, max_episode_steps=8)["returns"] == result["returns"]


def test_evaluate_cli_writes_json(tmp_path, monkeypatch):
    path = tmp_path / "random.json"
    monkeypatch.setattr(sys, "argv", ["evaluate", "--policy", "random", "--episodes", "1",
                                      "--max-episode-steps", "4", "--out", str(path)])
    evaluate_script.main()
    result = json.loads(path.read_text())
    assert result["policy"] == "random" and result["episodes"] == 1 and result["lengths"] == [4]


def test_bad_input_gives_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown env id 'WorldSim/Nope-v0'"):
        evaluate("random", "WorldSim/Nope-v0")
    with pytest.raises(ValueError, match="episodes must be >= 1, got 0"):
        evaluate("random", episodes=0)
    with pytest.raises(FileNotFoundError, match="no policy at"):
        evaluate(tmp_path / "missing.zip")
    with pytest.raises(ValueError, match="unknown env_id 'WorldSim/Nope-Learned-v0'"):
        ppo.train(ppo.Args(env_id="WorldSim/Nope-Learned-v0", out=str(tmp_path)))
    with pytest.raises(ValueError, match="eval_episodes must be >= 1"):
        ppo.train(ppo.Args(eval_episodes=0, out=str(tmp_path)))
    with pytest.raises(ValueError, match="batch_size"):
        ppo.train(ppo.Args(num_envs=2, n_steps=8, batch_size=64, out=str(tmp_path)))


@pytest.mark.slow
def test_ppo_multi_trains_two_agents_with_one_policy(checkpoint, tmp_path, monkeypatch):
    from worldsim.agents import ppo_multi

    monkeypatch.setattr(sys, "argv", [
        "ppo_multi", "--checkpoint", checkpoint, "--out", str(tmp_path), "--copies", "1", "--total-timesteps", "32",
        "--n-steps", "16", "--batch-size", "16", "--n-epochs", "1", "--max-cycles", "6", "--eval-episodes", "2",
        "--sampling-steps", "1", "--device", "cpu", "--no-progress-bar"])
    ppo_multi.main()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (tmp_path / "policy.zip").is_file() and summary["num_timesteps"] >= 32
    assert len(summary["eval"]["returns"]) == len(summary["random"]["returns"]) == 2
    assert _finite(summary["mean_return"], summary["random"]["mean_return"])
    with pytest.raises(ValueError, match="batch_size"):
        ppo_multi.check_args(ppo_multi.Args(copies=1, n_steps=4, batch_size=64))


def test_training_starts_from_a_policy_file_of_the_same_network(tmp_path):
    import gymnasium as gym
    import torch
    from stable_baselines3 import PPO

    from worldsim.agents.policy_file import save_policy_file

    def model(seed: int, env_id: str = "WorldSim/Reach-v0") -> PPO:
        env = VecTransposeImage(DummyVecEnv([lambda: gym.make(env_id)]))
        return PPO("CnnPolicy", env, n_steps=16, batch_size=16, seed=seed, device="cpu")

    source, fresh = model(0), model(1)
    path = str(save_policy_file(source, tmp_path / "policy.safetensors"))
    ppo.start_from(fresh, path)
    for name, t in source.policy.state_dict().items():
        assert torch.equal(fresh.policy.state_dict()[name], t)
    with pytest.raises(ValueError, match="acts in"):
        ppo.start_from(model(0, "WorldSim/TwoAgents-v0"), path)
    with pytest.raises(ValueError, match="init_policy .* does not exist"):
        ppo.train(ppo.Args(init_policy=str(tmp_path / "missing.safetensors"), out=str(tmp_path)))


def test_ppo_arguments_that_do_not_fit_the_env_are_refused_before_training():
    with pytest.raises(ValueError, match="are for learned envs"):
        ppo.check_args(ppo.Args(env_id="WorldSim/Reach-v0", eval_env_id="WorldSim/Reach-v0", reward="frames"))
    with pytest.raises(ValueError, match="'heads' or 'frames'"):
        ppo.check_args(ppo.Args(env_id="WorldSim/Reach-Learned-v0", eval_env_id="WorldSim/Reach-v0", reward="pixels"))
    ppo.check_args(ppo.Args(env_id="WorldSim/Reach-Learned-v0", eval_env_id="WorldSim/Reach-v0", reward="frames"))
    with pytest.raises(ValueError, match="are for learned envs"):
        ppo.check_args(ppo.Args(env_id="WorldSim/Reach-v0", eval_env_id="WorldSim/Reach-v0", latent_hold=0.4))
    with pytest.raises(ValueError, match="give --dataset"):
        ppo.check_args(ppo.Args(env_id="WorldSim/Reach-Learned-v0", eval_env_id="WorldSim/Reach-v0", first_frames=0.5))
    ppo.check_args(ppo.Args(env_id="WorldSim/Reach-Learned-v0", eval_env_id="WorldSim/Reach-v0", first_frames=0.5,
                            dataset=("data/reach/scripted",)))
    with pytest.raises(ValueError, match="extractor must be one of"):
        ppo.check_args(ppo.Args(env_id="WorldSim/Reach-v0", eval_env_id="WorldSim/Reach-v0", extractor="resnet"))
