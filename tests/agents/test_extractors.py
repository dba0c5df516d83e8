"""The keypoint extractor: a spatial softmax that reads positions, in a policy file like any other."""

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticCnnPolicy

from worldsim.agents.extractors import KeypointCNN, SpatialSoftmax
from worldsim.agents.policy_file import load_policy_file, save_policy_file

OBS = spaces.Box(0, 255, (3, 64, 64), np.uint8)
ACT = spaces.Box(-1.0, 1.0, (2,), np.float32)


@pytest.mark.parametrize("row, col", [(0, 0), (3, 12), (15, 7)])
def test_spatial_softmax_finds_the_cell_where_a_map_fires(row, col):
    maps = torch.zeros(1, 2, 16, 16)
    maps[0, 0, row, col] = 30.0  # one sharp peak
    maps[0, 1, 8:, :] = 30.0  # the lower half lit evenly
    pos = SpatialSoftmax(16, 16)(maps)[0].tolist()  # x0, y0, x1, y1
    cell = 2.0 / 15.0
    assert pos[0] == pytest.approx(-1 + col * cell, abs=1e-3) and pos[1] == pytest.approx(-1 + row * cell, abs=1e-3)
    assert pos[2] == pytest.approx(0.0, abs=1e-4) and pos[3] == pytest.approx(-1 + 11.5 * cell, abs=1e-3)


def test_keypoint_features_follow_a_moving_spot():
    torch.manual_seed(0)
    net = KeypointCNN(OBS, features_dim=32, keypoints=8)
    frames = torch.zeros(2, 3, 64, 64)
    frames[0, :, 8:14, 8:14] = 1.0
    frames[1, :, 48:54, 40:46] = 1.0
    with torch.no_grad():
        points = net.softmax(net.convs(frames))  # (2, 16)
    assert points.shape == (2, 16) and bool((points.abs() <= 1).all())
    assert not torch.allclose(points[0], points[1], atol=1e-3)  # where the spot is changes what the policy reads
    assert net(frames).shape == (2, 32)
    with pytest.raises(ValueError, match="at least 16x16"):
        KeypointCNN(spaces.Box(0, 255, (3, 8, 8), np.uint8))


def test_a_keypoint_policy_round_trips_through_a_policy_file(tmp_path):
    torch.manual_seed(0)
    policy = ActorCriticCnnPolicy(OBS, ACT, lambda _: 3e-4, features_extractor_class=KeypointCNN,
                                  features_extractor_kwargs={"keypoints": 4})
    loaded = load_policy_file(save_policy_file(policy, tmp_path / "policy.safetensors"), device="cpu")
    obs = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    act = lambda p: p.predict(obs, deterministic=True)[0]  # noqa: E731
    np.testing.assert_array_equal(act(loaded), act(policy))
    assert isinstance(loaded.features_extractor, KeypointCNN)
