"""Reward and termination read off the frames the simulator shows.

The DiT predicts a reward and a termination logit from its own tokens, trained beside the flow loss.
Those heads see the latent of a step, not the picture, and a termination (the agent on the goal) is a
fact about a few pixels that the latent blurs. :class:`FrameHeads` is a small CNN that reads two
consecutive frames, as decoded, and the action between them, and answers the same two questions; it is
how world-model RL agents such as DIAMOND read rewards off imagined frames. When a checkpoint holds
frame heads, the :class:`~worldsim.simulator.Simulator` takes its rewards and terminations from them.

They are trained by :mod:`worldsim.train_heads` (``worldsim frame-heads``), which adds them to a
world-model checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from .autoencoder import Autoencoder
from .data import pad_actions


@dataclass
class FrameHeadsConfig:
    """Architecture of :class:`FrameHeads` (the ``frame_heads`` section of a world model's config)."""

    image_size: int = 64
    """Side of the square frames read; the autoencoder's."""
    action_dim: int = 4
    """Width of the action read; the DiT's."""
    channels: tuple[int, ...] = (32, 64, 64, 64)
    """Width of each stride-2 convolution."""
    hidden: int = 256
    """Width of the layer between the convolutions and the two outputs."""
    read_action: bool = True
    """Read the action beside the frames. Without it the heads answer from the frames alone, so a
    policy cannot earn reward from them by its choice of action without the frames changing."""
    potential: bool = False
    """Give the reward a potential term: ``reward = phi(frame) - phi(prev) + rest``, where ``phi`` is a
    scalar a second CNN reads from one frame alone and ``rest`` is the step's own output. A shaped
    reward of the kind "progress towards a goal" (the change of a distance the frame shows) is
    exactly such a difference, so the heads learn the distance from single frames instead of its
    small change from the difference of two."""
    separable: bool = False
    """Read the step's own reward term as ``u(frame) + v(action)``: one network reads the frame after
    the step alone, another the action alone. A policy can then earn that term only by reaching frames
    the data paid for, or through the action's own cost, never by an action the heads merely learnt to
    associate with pay in the recorded episodes. The termination still reads both frames."""


class FrameHeads(nn.Module):
    """Two frames and the action between them -> the reward of that step and its termination logit.

    The convolutions see both frames, their difference (where something moved) and each pixel's
    position (so that how far apart two things are can be read, not only what they look like).
    """

    def __init__(self, cfg: FrameHeadsConfig):
        super().__init__()
        side = cfg.image_size >> len(cfg.channels)
        if side < 1 or side << len(cfg.channels) != cfg.image_size:
            raise ValueError(f"image_size {cfg.image_size} is not divisible by 2^{len(cfg.channels)}, "
                             f"one halving per convolution in channels={cfg.channels}")
        self.cfg = cfg
        self.convs = _convs(11, cfg.channels)  # both RGB frames, their difference, each pixel's column and row
        features = cfg.channels[-1] * side * side
        self.mlp = nn.Sequential(nn.Linear(features + (cfg.action_dim if cfg.read_action else 0), cfg.hidden),
                                 nn.SiLU(), nn.Linear(cfg.hidden, 1 if cfg.separable else 2))  # [reward,] logit
        single_frame = lambda: nn.Sequential(_convs(5, cfg.channels), nn.Linear(features, cfg.hidden),  # noqa: E731
                                             nn.SiLU(), nn.Linear(cfg.hidden, 1))  # a frame and positions -> scalar
        if cfg.potential:
            self.phi = single_frame()
        if cfg.separable:
            self.state_reward = single_frame()  # u(frame after)
            self.action_reward = nn.Sequential(nn.Linear(cfg.action_dim, 64), nn.SiLU(), nn.Linear(64, 1))  # v(action)

    def forward(self, prev: Tensor, frame: Tensor, action: Tensor) -> tuple[Tensor, Tensor]:
        """uint8 frames ``(N, H, W, 3)`` before and after float ``action`` ``(N, A)`` -> reward ``(N,)``
        and termination logit ``(N,)``."""
        before, after = Autoencoder.to_float(prev), Autoencoder.to_float(frame)  # (N, 3, H, W) each
        n, _, h, w = after.shape
        rows = torch.linspace(-1, 1, h, device=after.device)[:, None].expand(h, w)
        cols = torch.linspace(-1, 1, w, device=after.device)[None, :].expand(h, w)
        where = torch.stack([cols, rows]).expand(n, 2, h, w)  # positions, so distances can be read
        x = torch.cat([before, after, after - before, where], dim=1)  # (N, 11, H, W)
        features = self.convs(x.to(action.dtype))
        out = self.mlp(torch.cat([features, action], dim=1) if self.cfg.read_action else features)  # (N, 1 or 2)
        reached = torch.cat([after, where], dim=1).to(action.dtype)  # the frame after alone, with positions
        if self.cfg.separable:
            reward = self.state_reward(reached)[:, 0] + self.action_reward(action)[:, 0]
        else:
            reward = out[:, 0]
        if self.cfg.potential:
            phi = self.phi(torch.cat([torch.cat([before, where], dim=1).to(action.dtype), reached]))
            reward = reward + phi[n:, 0] - phi[:n, 0]  # phi(after) - phi(before)
        return reward, out[:, -1]


def _convs(width: int, channels: tuple[int, ...]) -> nn.Sequential:
    """Stride-2 4x4 convolutions with SiLU, one per entry of ``channels``, then flattened."""
    layers: list[nn.Module] = []
    for c in channels:
        layers += [nn.Conv2d(width, c, 4, stride=2, padding=1), nn.SiLU()]
        width = c
    return nn.Sequential(*layers, nn.Flatten())


@dataclass
class Transitions:
    """Every step of some episodes: the frames on either side, the action, reward and termination."""

    prev: Tensor  # (N, H, W, 3) uint8
    frame: Tensor  # (N, H, W, 3) uint8
    action: Tensor  # (N, A) float32
    reward: Tensor  # (N,) float32
    terminated: Tensor  # (N,) bool

    def __len__(self) -> int:
        return len(self.reward)


def transitions(frames: list[np.ndarray], actions: list[np.ndarray], rewards: list[np.ndarray],
                terminated: list[np.ndarray], action_dim: int) -> Transitions:
    """The steps of episodes given as per-episode frames ``(T+1, H, W, 3)`` and ``(T, ...)`` arrays."""
    if not frames:
        raise ValueError("no episode to take transitions from")
    return Transitions(
        torch.from_numpy(np.concatenate([f[:-1] for f in frames])),
        torch.from_numpy(np.concatenate([f[1:] for f in frames])),
        torch.from_numpy(np.concatenate([pad_actions(a, action_dim) for a in actions])),
        torch.from_numpy(np.concatenate(rewards).astype(np.float32)),
        torch.from_numpy(np.concatenate(terminated).astype(bool)),
    )


def reward_termination_scores(reward: np.ndarray, predicted: np.ndarray, terminated: np.ndarray,
                              done_prob: np.ndarray, threshold: float = 0.5) -> dict[str, float | int | None]:
    """Predicted rewards and termination probabilities against the true ones, step by step.

    Reported: the reward's mean absolute error beside that of the trivial baseline that always predicts
    the mean true reward, and its correlation with the truth, over all steps and over the steps that do
    not terminate (``reward_corr_ongoing``: whether the small rewards on the way, which a policy climbs,
    are read, apart from the large one at the end); termination precision and recall at ``threshold``
    with the counts behind them. A figure that is undefined is None: the correlation of a constant,
    precision when nothing is predicted to terminate, recall when nothing terminates.
    """
    r, pr = np.asarray(reward, np.float64).ravel(), np.asarray(predicted, np.float64).ravel()
    d, prob = np.asarray(terminated, bool).ravel(), np.asarray(done_prob, np.float64).ravel()
    if not r.size or not r.size == pr.size == d.size == prob.size:
        raise ValueError(f"need as many predictions as true steps, at least one: {r.size}, {pr.size}, {d.size}, "
                         f"{prob.size}")
    pd = prob > threshold
    hits = int((pd & d).sum())
    return {
        "transitions": int(r.size),
        "reward_mae": float(np.abs(pr - r).mean()),
        "reward_mae_mean_baseline": float(np.abs(r.mean() - r).mean()),
        "reward_corr": _corr(pr, r),
        "reward_corr_ongoing": _corr(pr[~d], r[~d]),
        "terminations": int(d.sum()),
        "predicted_terminations": int(pd.sum()),
        "termination_precision": hits / int(pd.sum()) if pd.any() else None,
        "termination_recall": hits / int(d.sum()) if d.any() else None,
    }


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pearson correlation, or None where it is undefined (fewer than two values, or a constant)."""
    return float(np.corrcoef(a, b)[0, 1]) if a.size > 1 and a.std() > 0 and b.std() > 0 else None


@torch.no_grad()
def score_heads(heads: FrameHeads, data: Transitions, threshold: float = 0.5,
                batch_size: int = 512) -> dict[str, float | int | None]:
    """:func:`reward_termination_scores` of ``heads`` on ``data``."""
    device = next(heads.parameters()).device
    was_training = heads.training
    heads.eval()
    rewards, probs = [], []
    for i in range(0, len(data), batch_size):
        s = slice(i, i + batch_size)
        r, logit = heads(data.prev[s].to(device), data.frame[s].to(device), data.action[s].to(device))
        rewards.append(r.float().cpu())
        probs.append(torch.sigmoid(logit.float()).cpu())
    heads.train(was_training)
    return reward_termination_scores(data.reward.numpy(), torch.cat(rewards).numpy(), data.terminated.numpy(),
                                     torch.cat(probs).numpy(), threshold)
