"""Feature extractors for pixel policies, beside SB3's ``NatureCNN``.

:class:`KeypointCNN` ends in a spatial softmax (Levine et al. 2016, "End-to-End Training of Deep
Visuomotor Policies"): each of its last feature maps becomes the expected image position of where it
fires, so the policy reads *where* the agent and the goal are as numbers, instead of having to
untangle positions from a flattened feature map. Tasks whose answer is a direction between two
things on screen (Reach) are that kind of task.

    from worldsim.agents.extractors import KeypointCNN
    PPO("CnnPolicy", env, policy_kwargs={"features_extractor_class": KeypointCNN})

``python -m worldsim.agents.ppo --extractor keypoints`` does the same.
"""

from __future__ import annotations

import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import Tensor, nn


class SpatialSoftmax(nn.Module):
    """``(B, K, H, W)`` feature maps to ``(B, 2K)`` expected positions ``(x, y)`` in [-1, 1], one per map.

    Each map is a softmax over its H*W cells, at a learned temperature, and the position is that
    distribution's mean."""

    def __init__(self, height: int, width: int):
        super().__init__()
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, height), torch.linspace(-1, 1, width), indexing="ij")
        self.register_buffer("grid", torch.stack([xs.flatten(), ys.flatten()], dim=1), persistent=False)  # (HW, 2)
        self.log_temperature = nn.Parameter(torch.zeros(()))

    def forward(self, maps: Tensor) -> Tensor:
        b, k = maps.shape[:2]
        weights = torch.softmax(maps.flatten(2) / self.log_temperature.exp(), dim=-1)  # (B, K, HW)
        return (weights @ self.grid).reshape(b, 2 * k)  # (B, 2K): x_0, y_0, x_1, y_1, ...


class KeypointCNN(BaseFeaturesExtractor):
    """Three convolutions (one of stride 4, then two at that resolution) and a spatial softmax: ``keypoints``
    expected positions, mapped to ``features_dim`` features by a linear layer and a ReLU.

    Args:
        observation_space: Channels-first images (SB3's ``VecTransposeImage`` gives them), at least 16 pixels
            a side.
        features_dim: Width of the features the policy and value heads read.
        keypoints: Feature maps turned into positions.
    """

    def __init__(self, observation_space: spaces.Box, features_dim: int = 128, keypoints: int = 16):
        super().__init__(observation_space, features_dim)
        shape = observation_space.shape
        if len(shape) != 3 or min(shape[1:]) < 16:
            raise ValueError(f"KeypointCNN reads channels-first images of at least 16x16 pixels, got shape {shape}")
        channels, height, width = shape
        self.convs = nn.Sequential(
            nn.Conv2d(channels, 32, kernel_size=8, stride=4, padding=2), nn.ReLU(),
            nn.Conv2d(32, 32, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(32, keypoints, kernel_size=3, padding=1),
        )
        with torch.no_grad():
            h, w = self.convs(torch.zeros(1, *shape)).shape[2:]
        self.softmax = SpatialSoftmax(h, w)
        self.head = nn.Sequential(nn.Linear(2 * keypoints, features_dim), nn.ReLU())

    def forward(self, observations: Tensor) -> Tensor:
        return self.head(self.softmax(self.convs(observations)))
