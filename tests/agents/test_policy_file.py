"""A policy file: the policy's weights and the JSON that rebuilds it, loaded without unpickling."""

import json

import numpy as np
import pytest
import torch
from gymnasium import spaces
from safetensors.torch import save_file
from stable_baselines3.common.policies import ActorCriticCnnPolicy

from worldsim.agents.evaluate import evaluate
from worldsim.agents.policy_file import (
    FORMAT,
    SHIPPED,
    load_policy_file,
    main,
    policy_provenance,
    save_policy_file,
)
from worldsim.checkpoint import CheckpointError, load_tensors, tensor_metadata

OBS = spaces.Box(0, 255, (3, 64, 64), np.uint8)  # channels first, as PPO's CnnPolicy sees the scenes
ACT = spaces.Box(-1.0, 1.0, (2,), np.float32)


def _policy() -> ActorCriticCnnPolicy:
    torch.manual_seed(0)
    return ActorCriticCnnPolicy(OBS, ACT, lambda _: 3e-4, net_arch=[32])


def test_a_saved_policy_acts_as_the_original(tmp_path):
    policy = _policy()
    path = save_policy_file(policy, tmp_path / "policy.safetensors")
    loaded = load_policy_file(path)
    obs = np.random.default_rng(0).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8)  # as the env gives them
    act = lambda p: p.predict(obs, deterministic=True)[0]  # noqa: E731
    np.testing.assert_array_equal(act(loaded), act(policy))
    assert loaded.observation_space == OBS and loaded.action_space == ACT and loaded.net_arch == [32]
    spec = json.loads(tensor_metadata(path)[FORMAT])
    assert spec["observation_space"] == {"shape": [3, 64, 64], "dtype": "uint8", "low": 0, "high": 255}


def test_a_policy_stored_at_half_precision_is_half_the_file_and_acts_almost_alike(tmp_path):
    policy = _policy()
    full = save_policy_file(policy, tmp_path / "full.safetensors")
    half = save_policy_file(policy, tmp_path / "half.safetensors", storage="float16")
    assert half.stat().st_size < 0.55 * full.stat().st_size
    loaded = load_policy_file(half)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    obs = np.random.default_rng(1).integers(0, 256, (8, 64, 64, 3), dtype=np.uint8)
    np.testing.assert_allclose(loaded.predict(obs, deterministic=True)[0], policy.predict(obs, deterministic=True)[0],
                               atol=1e-2)
    with pytest.raises(ValueError, match="storage"):
        save_policy_file(policy, tmp_path / "x.safetensors", storage="int8")


def test_a_policy_file_keeps_how_it_was_trained(tmp_path):
    made = {"env": "WorldSim/Reach-Learned-v0", "steps": 200_000, "checkpoint_hash": "e71484c088f54288"}
    path = save_policy_file(_policy(), tmp_path / "policy.safetensors", provenance=made)
    assert policy_provenance(path) == made
    assert policy_provenance(save_policy_file(_policy(), tmp_path / "bare.safetensors")) == {}
    (tmp_path / "run.json").write_text(json.dumps(made))
    main([str(path), str(tmp_path / "half.safetensors"), "--storage", "float16", "--provenance",
          str(tmp_path / "run.json")])
    assert policy_provenance(tmp_path / "half.safetensors") == {"stages": [made]}
    assert load_policy_file(tmp_path / "half.safetensors").net_arch == [32]


def test_the_shipped_reach_policy_loads_without_unpickling_and_acts_in_mujoco():
    path = SHIPPED["reach"]
    assert path.is_file() and path.stat().st_size < 2_000_000
    stages = policy_provenance(path)["stages"]
    assert stages and all("WorldSim/Reach-Learned-v0" in json.dumps(stage) for stage in stages)  # the dream only
    score = evaluate("reach", "WorldSim/Reach-v0", episodes=1, seed=3, max_episode_steps=4)
    assert len(score["returns"]) == 1 and np.isfinite(score["returns"][0])


def test_evaluate_scores_a_policy_file_in_mujoco(tmp_path):
    path = save_policy_file(_policy(), tmp_path / "policy.safetensors")
    a = evaluate(path, "WorldSim/Reach-v0", episodes=1, seed=3, max_episode_steps=4)
    b = evaluate(path, "WorldSim/Reach-v0", episodes=1, seed=3, max_episode_steps=4)
    assert a["lengths"] == [4] and a["returns"] == b["returns"] and a["policy"] == str(path)


def test_foreign_or_broken_policy_files_are_refused_clearly(tmp_path):
    path = save_policy_file(_policy(), tmp_path / "policy.safetensors")
    tensors = load_tensors(path)
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(CheckpointError, match="not a policy file"):
        load_policy_file(plain)
    spec = json.loads(tensor_metadata(path)[FORMAT])
    for change, match in (({"policy_class": "os.system"}, "unknown policy class"),
                          ({"activation_fn": "Evil"}, "unknown activation"),
                          ({"version": 99}, "version"),
                          ({"net_arch": [64]}, "size mismatch")):
        bad = tmp_path / "bad.safetensors"
        save_file(tensors, str(bad), metadata={FORMAT: json.dumps({**spec, **change})})
        with pytest.raises(CheckpointError, match=match):
            load_policy_file(bad)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_policy_file(cut)
